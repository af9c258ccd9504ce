"""Probe records built from the server's metadata, the marker check before every change, the ledger's
"maybe created" records and the sweep's choice of filters — without a server (an in-memory CrmApi)."""

from __future__ import annotations

import os
import re
import signal
import sys

import pytest
from fake_crm import FakeCrm
from faker import Faker

from readiness import interrupts
from readiness.deadline import TimeLimitExceeded
from readiness.errors import CrmTimeout, ServerError
from readiness.fields_meta import FieldsMeta, parse_fields_meta, read_fields_meta
from readiness.ledger import Ledger
from readiness.markers import DESCRIPTION, MARKER, Marker, find_marked, is_probe_record
from readiness.payloads import build_payload, references
from readiness.probes import Prober, crud_outcome
from readiness.users import CrmUser

RUN = "20261202T070000Z-abc123"
UNREADABLE = FieldsMeta("X", problem="GET /meta/fields/X failed: not found")
DATE = re.compile(r"^\d{4}-\d\d-\d\d$")
DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


def meta_reply(fields: dict, filters=("name",)) -> dict:
    """A /meta/fields reply: every record has the marker fields and the ownership fields."""
    common = {"id": {"type": "id", "editable": False}, "name": {"type": "name"}, "description": {"type": "text"},
              "assigned_user_id": {"type": "id"}, "created_by": {"type": "id", "editable": False}}
    return {"fields": {**common, **fields}, "filters": {f: {"type": "varchar"} for f in filters}}


def meta(model: str, fields: dict, filters=("name",)) -> FieldsMeta:
    return parse_fields_meta(model, meta_reply(fields, filters))


def payload(model: str, metadata: FieldsMeta, refs=None):
    return build_payload(model, metadata, Marker.new(model, RUN), Faker(), refs or {})


# ----- metadata ------------------------------------------------------------------------------------


def test_rich_metadata_is_read_with_1crm_booleans_options_and_defaults():
    parsed = parse_fields_meta("Task", {
        "fields": {"priority": {"type": "enum", "required": "1", "default": "P1",
                                "options": {"": "", "P0": "Low", "P1": "Medium", "P2": "High"}},
                   "status": {"type": "enum", "required": True, "options": [{"value": "Not Started"}, "Done"]},
                   "account": {"type": "ref", "required": "0", "bean_name": "Account", "editable": "0"}},
        "filters": ["name", 7]})
    assert parsed.readable and parsed.filters == {"name"}
    priority, status, account = parsed.get("priority"), parsed.get("status"), parsed.get("account")
    assert (priority.required, priority.has_default, priority.default, priority.options) == (True, True, "P1",
                                                                                              ("P0", "P1", "P2"))
    assert (status.required, status.has_default, status.options) == (True, False, ("Not Started", "Done"))
    assert (account.required, account.editable, account.target) == (False, False, "Account")


@pytest.mark.parametrize("reply, words", [
    (None, "an empty reply"), ({}, "an empty reply"), ([], "an empty reply"),
    ({"fields": []}, "no 'fields' object"), ({"fields": {}}, "no 'fields' object"),
    ("<html>", "no 'fields' object"), ({"records": [{"name": "x"}]}, "no 'fields' object"),
])
def test_metadata_of_odd_shape_is_a_problem_not_a_crash(reply, words):
    parsed = parse_fields_meta("Meeting", reply)
    assert not parsed.readable and words in parsed.problem and parsed.fields == {} and parsed.filters == frozenset()


def test_metadata_that_cannot_be_read_is_said_and_never_raised():
    parsed = read_fields_meta(FakeCrm(), "Meeting")
    assert not parsed.readable and "GET /meta/fields/Meeting failed" in parsed.problem


def test_thin_metadata_entries_still_name_the_fields():
    parsed = parse_fields_meta("Note", {"fields": {"name": None, "description": "text", "parent_id": {}}})
    assert parsed.readable and set(parsed.fields) == {"name", "description", "parent_id"}
    assert parsed.filters == frozenset() and not parsed.get("name").required


# ----- payloads --------------------------------------------------------------------------------------


def test_without_metadata_the_known_1crm_shapes_are_sent_and_said():
    meeting = payload("Meeting", UNREADABLE)
    assert meeting.data["duration"] == "30" and not {"duration_hours", "duration_minutes"} & set(meeting.data)
    assert DATETIME.match(meeting.data["date_start"])
    assert "could not be read" in meeting.notes[0] and "known defaults" in meeting.notes[0]
    assert payload("Task", UNREADABLE).data["priority"] in ("P0", "P1", "P2")
    assert payload("aCase", UNREADABLE).data["status"] == "Active - New"
    project = payload("Project", UNREADABLE, {"account": "acc-1"}).data
    assert DATE.match(project["date_starting"]) and DATE.match(project["date_ending"]) and project["account"] == "acc-1"
    assert project["project_phase"] and not {"date_start", "status"} & set(project)
    assert references("Opportunity", UNREADABLE) == {"account": "Account"}
    assert references("Email", UNREADABLE) == {"folder_ref": "EmailFolder"}
    assert references("Project", UNREADABLE) == {"account": "Account"}


def test_every_required_field_without_default_gets_a_value_of_its_type():
    contact = meta("Contact", {
        "last_name": {"type": "name", "required": True}, "first_name": {"type": "name"},
        "customer_code": {"type": "varchar", "required": "1"},  # a customisation
        "region": {"type": "enum", "required": True, "options": {"north": "North", "south": "South"}},
        "signed_on": {"type": "date", "required": True}, "next_call": {"type": "datetime", "required": True},
        "seats": {"type": "int", "required": True}, "budget": {"type": "currency", "required": True},
        "vip": {"type": "bool", "required": True}, "contact_email": {"type": "email", "required": True},
        "source": {"type": "enum", "required": True, "default": "Web"},  # has a default: left to the server
        "locked": {"type": "varchar", "required": True, "editable": False},
        "assigned_user_id": {"type": "id", "required": True},  # the server assigns it to the creator
    }, filters=("last_name",))
    assert references("Contact", contact) == {}
    built = payload("Contact", contact)
    data = built.data
    assert built.notes == () and "assigned_user_id" not in data
    assert data["last_name"] == f"{MARKER} {RUN}" and data["description"].startswith(f"{DESCRIPTION} Run {RUN}")
    assert data["customer_code"] and data["region"] == "north"
    assert DATE.match(data["signed_on"]) and DATETIME.match(data["next_call"])
    assert (data["seats"], data["budget"], data["vip"]) == ("1", "1.00", "0") and "@" in data["contact_email"]
    assert "source" not in data and "locked" not in data
    assert "email1" not in data and "phone_work" not in data  # the server's Contact has no such fields
    assert "name" not in data  # a person's title is last_name


def test_known_values_follow_the_fields_own_types_and_options():
    task = meta("Task", {"date_due": {"type": "date"}, "status": {"type": "enum"},
                         "priority": {"type": "enum", "options": {"Urgent": "Urgent", "Normal": "Normal"}}})
    built = payload("Task", task)
    assert DATE.match(built.data["date_due"])  # a date on this server, not a datetime
    assert built.data["priority"] == "Urgent" and built.data["status"] == "Not Started"
    assert any("'P0' is not among the server's options" in note for note in built.notes)


def test_required_references_come_from_metadata_and_from_what_1crm_is_known_to_need():
    opportunity = meta("Opportunity", {"account": {"type": "ref", "required": True, "bean_name": "Account"},
                                       "campaign": {"type": "ref", "required": True, "bean_name": "Campaign"},
                                       "contact": {"type": "ref", "bean_name": "Contact"}})
    assert references("Opportunity", opportunity) == {"account": "Account", "campaign": "Campaign"}
    assert references("Opportunity", meta("Opportunity", {})) == {}  # this server's Opportunity has no account
    assert references("Email", meta("Email", {"folder_ref": {"type": "ref"}})) == {"folder_ref": "EmailFolder"}
    data = payload("Opportunity", opportunity, {"account": "acc-1"}).data
    assert data["account"] == "acc-1" and "campaign" not in data


def test_a_model_without_the_marker_fields_is_never_written():
    built = payload("Note", parse_fields_meta("Note", {"fields": {"name": {}, "id": {}}}))
    assert built.data == {} and "no field 'description'" in built.unmarkable


# ----- the probe as one user ---------------------------------------------------------------------------


def crm(**options) -> FakeCrm:
    metas = {
        "Account": meta_reply({}),
        "Opportunity": meta_reply({"account": {"type": "ref", "required": True, "bean_name": "Account"},
                                   "amount": {"type": "currency"}, "sales_stage": {"type": "enum"}}),
        "Email": meta_reply({"folder_ref": {"type": "ref", "required": True, "bean_name": "EmailFolder"}}),
        "Meeting": meta_reply({"date_start": {"type": "datetime", "required": True}, "duration": {"type": "int"}}),
        "EmailFolder": meta_reply({}),
    }
    return FakeCrm({**metas, **options.pop("meta", {})}, **options)


def prober(api: FakeCrm, ledger: Ledger | None = None) -> tuple[Prober, Ledger]:
    ledger = ledger or Ledger(lambda: api, meta=lambda who, model: read_fields_meta(who, model))
    return Prober(api, ledger, RUN, Faker(), lambda model: read_fields_meta(api, model)), ledger


def test_opportunity_gets_its_own_account_first_and_removes_it_last():
    api = crm()
    probe, ledger = prober(api)
    result = probe.probe("Opportunity")
    assert result.failure is None and result.not_verifiable is None, result
    creates = [c for c in api.calls if c[0] == "create"]
    assert [c[1] for c in creates] == ["Account", "Opportunity"]
    account_id = next(k[2] for k in api.calls if k[0] == "delete" and k[1] == "Account")
    assert creates[1][2]["account"] == account_id
    assert [c[1] for c in api.calls if c[0] == "delete"] == ["Opportunity", "Account"]
    assert api.records == {} and ledger.pending == []


def test_email_takes_a_folder_the_user_can_see_or_is_not_verifiable():
    api = crm()
    folder = api.seed("EmailFolder", {"name": "Inbox"})
    result = prober(api)[0].probe("Email")
    assert result.failure is None and result.not_verifiable is None
    assert next(c for c in api.calls if c[0] == "create")[2]["folder_ref"] == folder
    empty = crm()
    result = prober(empty)[0].probe("Email")
    assert result.failure is None and "no e-mail folder that alice can see" in result.not_verifiable
    assert "'folder_ref' requires one" in result.not_verifiable
    assert not [c for c in empty.calls if c[0] == "create"]  # nothing was written


def test_a_400_is_a_probe_design_problem_in_the_servers_words_never_missing_rights():
    api = crm(refuse=lambda model, data: "Field 'account' is required" if model == "Opportunity" else None,
              meta={"Opportunity": meta_reply({"amount": {"type": "currency"}})})
    probe, ledger = prober(api)
    result = probe.probe("Opportunity")
    assert result.failure == ("1CRM refused the probe Opportunity: Field 'account' is required — a probe design "
                              "problem or a server customisation, not missing rights")
    assert ledger.pending == []  # a refused create made nothing
    outcome = crud_outcome("alice@example.com", CrmUser.from_record({"id": "u-alice", "user_name": "alice"}), [result])
    assert not outcome.passed and outcome.verifiable and "cannot create" not in outcome.message
    api = crm(refuse=lambda model, data: "Missing value: region",
              meta={"Contact": meta_reply({"last_name": {"type": "name"}, "region": {"type": "enum"}})})
    assert "Missing value: region (field 'region')" in prober(api)[0].probe("Contact").failure


def test_a_model_that_answers_404_is_not_verifiable_on_this_server_with_the_check_by_hand():
    api = crm(missing={"Call"})
    probe, ledger = prober(api)
    result = probe.probe("Call")
    assert result.failure is None
    assert result.not_verifiable == (
        "the Call model is not verifiable through the API on this server (data/Call: not found (Model Call not "
        "found)) — check by hand: sign in to 1CRM in a browser as alice, create, open, modify and delete a Calls record")
    assert ledger.pending == []  # a 404 made nothing
    outcome = crud_outcome("alice@example.com", CrmUser.from_record({"id": "u-alice", "user_name": "alice"}), [result])
    assert not outcome.verifiable and "cannot create" not in outcome.message


def test_a_create_reply_naming_another_record_is_a_finding_and_that_record_is_left_alone():
    api = crm(reply_id=lambda model, new_id: seeded)
    seeded = api.seed("Meeting", {"name": "Board meeting", "description": "the real one"})
    before = dict(api.records[("Meeting", seeded)])
    probe, ledger = prober(api)
    result = probe.probe("Meeting")
    assert "the server's create reply named a Meeting record that is not the probe's" in result.failure
    assert "did not modify it" in result.failure and result.created is None
    assert api.writes(record_id=seeded) == [] and api.records[("Meeting", seeded)] == before
    assert ledger.undo() == []  # the run's own record is found by its mark and removed
    assert api.writes(record_id=seeded) == [] and list(api.records) == [("Meeting", seeded)]


def test_a_record_that_loses_its_mark_on_modify_is_not_deleted():
    class Swapping(FakeCrm):
        def update(self, model, record_id, data):  # the server swaps the record under the id
            super().update(model, record_id, {**data, "name": "Quarterly review", "description": "real notes"})

    api = Swapping(crm().meta)
    probe, ledger = prober(api)
    result = probe.probe("Meeting")
    assert "after the modify, the Meeting record" in result.failure and "did not delete it" in result.failure
    assert [c[0] for c in api.writes()] == ["update"] and len(api.records) == 1
    assert ledger.undo() == [] and len(api.records) == 1  # not the probe's any more: left alone


def test_a_modify_that_changes_nothing_fails_the_probe_and_the_cleanup_removes_the_record():
    class Ignoring(FakeCrm):
        def update(self, model, record_id, data):  # answered, but nothing written
            self.calls.append(("update", model, record_id))

    api = Ignoring(crm().meta)
    probe, ledger = prober(api)
    result = probe.probe("Meeting")
    assert "was answered, but reading it back shows no change" in result.failure, result.failure
    assert [c[0] for c in api.writes()] == ["update"]  # the probe stops at the modify
    assert ledger.undo() == [] and api.records == {}


def test_a_lost_create_reply_leaves_a_maybe_created_entry_that_the_cleanup_finds():
    api = crm(lose_reply={"Meeting"})
    probe, ledger = prober(api)
    result = probe.probe("Meeting")
    assert "got no usable reply" in result.failure and "looks for the record by its mark" in result.failure
    assert [e.record_id for e in ledger.pending] == [None] and len(api.records) == 1
    assert ledger.undo() == [] and api.records == {}


# ----- the ledger ----------------------------------------------------------------------------------------


def test_undo_reads_and_confirms_the_mark_before_deleting():
    api = crm(reply_id=lambda model, new_id: foreign)
    foreign = api.seed("Meeting", {"name": f"{MARKER} {RUN}", "description": "a person's own notes"})
    ledger = Ledger(lambda: api, meta=lambda who, model: read_fields_meta(who, model))
    marker = Marker.new("Meeting", RUN)
    assert ledger.create(api, marker, marker.data()) == foreign  # interrupted before the probe's own check
    assert ledger.undo() == []
    assert api.writes(record_id=foreign) == [] and list(api.records) == [("Meeting", foreign)]
    assert [c[0] for c in api.calls if c[0] == "delete"] == ["delete"]  # only the run's own record


def test_a_create_cut_short_by_the_time_limit_leaves_a_maybe_created_entry():
    class CutShort(FakeCrm):
        def create(self, model, data):
            super().create(model, data)  # stored, but the reply never comes: the run's time is up
            raise TimeLimitExceeded("the run's time limit (READINESS_MAX_MINUTES) is reached")

    api = CutShort(crm().meta)
    ledger = Ledger(lambda: api, meta=lambda who, model: read_fields_meta(who, model))
    with pytest.raises(TimeLimitExceeded):
        ledger.create(api, Marker.new("Meeting", RUN), Marker.new("Meeting", RUN).data())
    assert [e.record_id for e in ledger.pending] == [None]


def test_one_record_that_cannot_be_verified_gone_does_not_stop_the_cleanup_of_the_others():
    class Failing(FakeCrm):
        def read(self, model, record_id, *, fields=()):
            if fields == ["id"] and model == "Call":
                raise ServerError("HTTP 500 for data/Call", status=500)  # the check that it is gone fails
            return super().read(model, record_id, fields=fields)

    api = Failing(crm().meta)
    ledger = Ledger(lambda: api)
    for model in ("Meeting", "Call", "Task"):
        marker = Marker.new(model, RUN)
        ledger.create(api, marker, marker.data())
    problems = ledger.undo()
    assert len(problems) == 1 and problems[0].startswith("Call ") and "HTTP 500" in problems[0], problems
    assert {model for model, _ in api.records} == set() and [e.model for e in ledger.pending] == ["Call"]


def test_maybe_created_records_are_reported_for_the_sweep_when_they_cannot_be_looked_for():
    api = crm(lose_reply={"Meeting"}, meta={"Meeting": meta_reply({"date_start": {"type": "datetime"}}, filters=())})
    ledger = Ledger(lambda: api, meta=lambda who, model: read_fields_meta(who, model))
    marker = Marker.new("Meeting", RUN)
    with pytest.raises(CrmTimeout):
        ledger.create(api, marker, marker.data())
    for n in range(3):
        api.seed("Meeting", {"name": f"meeting {n}"})
    found = ledger._find_and_remove(ledger.pending[0])
    assert found is None and api.records.get(("Meeting", "Meeting-1")) is None  # paged through: found anyway
    ledger = Ledger(lambda: api)  # no metadata to search with
    with pytest.raises(CrmTimeout):
        ledger.create(api, marker, marker.data())
    problems = ledger.undo()
    assert len(problems) == 1 and "may have been created" in problems[0] and "python -m readiness sweep" in problems[0]


def test_a_refused_create_is_not_registered_but_one_without_a_reply_is():
    from readiness.errors import Refused

    api = crm(refuse=lambda model, data: "Field 'x' is required" if model == "Meeting" else None, lose_reply={"Call"})
    ledger = Ledger(lambda: api)
    meeting, call = Marker.new("Meeting", RUN), Marker.new("Call", RUN)
    with pytest.raises(Refused):
        ledger.create(api, meeting, meeting.data())
    with pytest.raises(CrmTimeout):
        ledger.create(api, call, call.data())
    assert [(e.model, e.record_id) for e in ledger.pending] == [("Call", None)]


def test_a_create_reply_naming_no_readable_record_is_a_finding():
    api = crm(reply_id=lambda model, new_id: "no-such-id")
    probe, ledger = prober(api)
    result = probe.probe("Meeting")
    assert "named a Meeting record (no-such-id) that cannot be read" in result.failure
    assert ledger.undo() == [] and api.records == {}  # the record made was found by its mark


# ----- finding marked records ------------------------------------------------------------------------------


def test_an_advertised_title_filter_is_used_and_every_prefix_match_confirmed():
    api = crm(meta={"Contact": meta_reply({"last_name": {"type": "name"}}, filters=("last_name", "first_name"))})
    probe_record = {"last_name": f"{MARKER} {RUN}", "description": DESCRIPTION}
    mine = api.seed("Contact", probe_record)
    api.seed("Contact", {"last_name": f"{MARKER}-other {RUN}", "description": DESCRIPTION})
    api.seed("Contact", {"last_name": f"{MARKER} {RUN}", "description": "a real person"})
    api.seed("Contact", {"last_name": "Smith", "description": DESCRIPTION})
    search = find_marked(api, "Contact", read_fields_meta(api, "Contact"), MARKER,
                         lambda r: is_probe_record("Contact", r))
    assert [r["id"] for r in search.records] == [mine] and search.complete
    assert search.how == f"filter last_name={MARKER}"
    lists = [c for c in api.calls if c[0] == "list"]
    assert lists == [("list", "Contact", {"last_name": MARKER})]  # never assigned_user_id


def test_a_model_without_a_usable_filter_is_paged_through_bounded_and_says_so():
    api = crm(meta={"Note": meta_reply({}, filters=("assigned_user_id", "parent_id"))})
    for n in range(450):
        api.seed("Note", {"name": f"note {n}"})
    late = api.seed("Note", {"name": f"{MARKER} {RUN}", "description": DESCRIPTION})
    search = find_marked(api, "Note", read_fields_meta(api, "Note"), MARKER, lambda r: is_probe_record("Note", r),
                         max_pages=2)
    assert not search.complete and search.records == []
    assert "advertises no filter on 'name'" in search.how and "limit of 2 pages" in search.how
    assert all(c[2] == {} for c in api.calls if c[0] == "list")
    search = find_marked(api, "Note", read_fields_meta(api, "Note"), MARKER, lambda r: is_probe_record("Note", r),
                         max_pages=3)
    assert search.complete and [r["id"] for r in search.records] == [late]
    unknown = find_marked(api, "Note", UNREADABLE, MARKER, lambda r: is_probe_record("Note", r), max_pages=3)
    assert "filters are unknown" in unknown.how and len(unknown.records) == 1


# ----- the sweep ----------------------------------------------------------------------------------------------


class SweepRun:
    """What the sweep needs of a ReadinessRun: the connection user's API and the metadata cache."""

    def __init__(self, api):
        self.connection_api = api

    def fields_meta(self, model, api=None):
        return read_fields_meta(self.connection_api, model)


def test_the_sweep_removes_confirmed_leftovers_of_any_run_and_says_how_it_searched():
    from readiness.sweep import sweep

    api = crm(meta={"Note": meta_reply({}, filters=())}, user_id="u-bob")  # assigned to someone else: still found
    old = {"name": f"{MARKER} 20251111T101010Z-0a0b0c", "description": f"{DESCRIPTION} Run x."}
    leftovers = {api.seed("Meeting", old), api.seed("Note", old), api.seed("Account", old)}
    look_alikes = {api.seed("Meeting", {**old, "description": "real notes"}),
                   api.seed("Note", {"name": f"{MARKER} minutes of the Riva workshop", "description": DESCRIPTION})}
    report = sweep(SweepRun(api), dry_run=True, max_pages=2)
    assert {f.record_id for f in report.found} == leftovers and api.writes() == []
    assert any(n.startswith("Note: Note advertises no filter on 'name'") for n in report.notes)
    assert any(n.startswith("Contact: not searched") for n in report.notes)  # no metadata, no records: 404
    report = sweep(SweepRun(api), dry_run=False, max_pages=2)
    assert report.problems == [] and {r.record_id for r in report.removed} == leftovers
    assert {record_id for _, record_id in api.records} == look_alikes
    assert not any("assigned_user_id" in c[2] for c in api.calls if c[0] == "list")


def test_the_sweep_names_the_crm_and_the_connection_user_never_the_password():
    from readiness.config import load_settings
    from readiness.sweep import crm_looked_at

    settings = load_settings({"CRM_URL": "https://crm.example.com/1crm/", "CRM_USERNAME": "riva_svc",
                              "CRM_PASSWORD": "Sweep-Secret-42", "READINESS_ENV_FILE": "none"})
    assert crm_looked_at(settings) == "https://crm.example.com/1crm as riva_svc"


@pytest.mark.skipif(not hasattr(signal, "SIGINT") or sys.platform == "win32", reason="sends SIGINT to itself")
def test_a_second_and_third_ctrl_c_during_the_cleanup_never_leave_a_record_behind():
    class Impatient(FakeCrm):
        def delete(self, model, record_id):
            os.kill(os.getpid(), signal.SIGINT)  # the user presses Ctrl-C again while the cleanup deletes
            return super().delete(model, record_id)

    api = Impatient(crm().meta)
    ledger = Ledger(lambda: api)
    for model in ("Meeting", "Call", "Task"):
        marker = Marker.new(model, RUN)
        ledger.create(api, marker, marker.data())
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)  # as under pytest: Ctrl-C raises
    try:
        with pytest.raises(KeyboardInterrupt, match="deferred until cleanup finished"):
            ledger.undo()
        assert api.records == {} and ledger.pending == []  # every delete ran and was verified; the interrupt after
        for model in ("Meeting", "Call"):
            marker = Marker.new(model, RUN)
            ledger.create(api, marker, marker.data())
        interrupts.stop_in_order()  # the run was interrupted before: now it is ending in order
        assert ledger.undo() == [] and api.records == {}  # a further Ctrl-C only hurries; nothing is raised
    finally:
        interrupts.install()
        signal.signal(signal.SIGINT, previous)
