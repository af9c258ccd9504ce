"""Matching, ownership and the ledger, without a server (role rights: test_rights_logic.py)."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from readiness.errors import AccessDenied, NotFound
from readiness.interrupts import deferred_interrupts
from readiness.ledger import Ledger
from readiness.markers import Marker
from readiness.probes import ProbeResult, crud_outcome, is_probe_record, ownership_outcome
from readiness.users import CrmUser, Directory

ABSENT = object()  # a field the server's reply does not carry


def user(user_name, email1, email2="", status="Active", admin="0", portal="0", group="0", uid=None):
    record = {"id": uid or user_name, "user_name": user_name, "first_name": user_name.title(), "email1": email1,
              "email2": email2, "status": status, "is_admin": admin, "portal_only": portal, "is_group": group}
    return CrmUser.from_record({k: v for k, v in record.items() if v is not ABSENT})


DIRECTORY = Directory([
    user("ann", "ann@example.com"),
    user("old", "old@example.com", status="Inactive"),
    user("twin1", "twin@example.com"), user("twin2", "twin@example.com"),
    user("revived1", "revived@example.com", status="Inactive"), user("revived2", "revived@example.com"),
    user("sec", "sec@example.com", email2="alias@example.com"),
    user("Case", "Case.User@Example.com"),
    user("ivan", "info@example.com", status="Info Only"),
    user("grp", "group@example.com", group="1"),
])


@pytest.mark.parametrize("address, passed, advisory, words", [
    ("ann@example.com", True, False, "matches exactly one active user: ann"),
    ("old@example.com", False, False, "is inactive"),
    ("twin@example.com", False, False, "2 active CRM users share"),
    ("revived@example.com", True, False, "revived2"),  # an inactive namesake does not count
    ("alias@example.com", False, False, "only a secondary e-mail matches (sec"),
    ("nobody@example.com", False, False, "no CRM user has this primary e-mail"),
    ("case.user@example.com", False, True, "only when ignoring letter case"),
    ("info@example.com", False, False, "is an Info Only user (cannot sign in), so Riva cannot act as them"),
    ("group@example.com", False, False, "is a group user"),
    (" ann@example.com", False, True, "ignoring letter case or spaces"),
])
def test_matching_diagnoses(address, passed, advisory, words):
    outcome = DIRECTORY.match(address).outcome
    assert (outcome.passed, outcome.advisory, outcome.subject) == (passed, advisory, address)
    assert words in outcome.message


def test_ownership_names_the_wrong_owner():
    alice = user("alice", "alice@x.org", uid="u-alice")
    mine = {"assigned_user_id": "u-alice", "created_by": "u-alice", "modified_user_id": "u-alice"}
    good = ProbeResult("Meeting", None, mine, mine)
    bad = ProbeResult("Call", None, {**mine, "created_by": "u-admin"}, {**mine, "modified_user_id": "u-admin"})
    assert ownership_outcome("alice@x.org", alice, [good]).passed
    outcome = ownership_outcome("alice@x.org", alice, [good, bad])
    assert not outcome.passed
    assert "the Call probe record is created by 'u-admin', not alice" in outcome.message
    assert "modified by 'u-admin'" in outcome.message
    assert not ownership_outcome("alice@x.org", alice, [ProbeResult("Task", "cannot create")]).verifiable


def test_passed_probes_say_they_signed_in_with_the_users_own_password():
    alice = user("alice", "alice@x.org", uid="u-alice")
    mine = {"assigned_user_id": "u-alice", "created_by": "u-alice", "modified_user_id": "u-alice"}
    results = [ProbeResult("Meeting", None, mine, mine)]
    for outcome in (crud_outcome("alice@x.org", alice, results), ownership_outcome("alice@x.org", alice, results)):
        assert outcome.passed
        assert outcome.message.endswith(  # 1crm-api.md §0: the report says it in those words
            " — the probes sign in with the user's own password, because the suite cannot use Riva's impersonation "
            "mechanism; that exercises the same per-user permissions and audit attribution")


def test_probe_records_are_recognised_exactly():
    record = {"name": "riva-readiness-probe 20261124T231039Z-f61f39",
              "description": "Created by the Riva readiness suite to test a target user's rights; safe to delete."}
    assert is_probe_record("Meeting", record)
    assert not is_probe_record("Meeting", {**record, "name": "riva-readiness-probe minutes"})
    assert not is_probe_record("Meeting", {**record, "description": "real notes"})
    assert not is_probe_record("Contact", record)  # contacts carry the marker in last_name


class FakeApi:
    """Records deletions; may deny them, like a role without delete rights."""

    username = "alice"

    def __init__(self, deny=False):
        self.deny, self.deleted, self.records = deny, [], {}

    def create(self, model, data):
        record_id = f"{model}-{len(self.records)}"
        self.records[record_id] = data
        return record_id

    def delete(self, model, record_id):
        if self.deny:
            raise AccessDenied("access denied", module=model, action="delete")
        self.deleted.append(record_id)
        self.records.pop(record_id, None)

    def read(self, model, record_id, fields=()):
        if record_id not in self.records:
            raise NotFound("gone")
        return self.records[record_id]


def test_ledger_undoes_newest_first_and_falls_back_to_the_connection_user():
    target, admin = FakeApi(deny=True), FakeApi()
    ledger = Ledger(lambda: admin)
    meeting, call = Marker.new("Meeting", "20261124T231039Z-f61f39"), Marker.new("Call", "20261124T231039Z-f61f39")
    first = ledger.create(target, meeting, meeting.data())
    second = ledger.create(target, call, call.data())
    admin.records = dict(target.records)  # the administrator sees the same records
    assert ledger.undo() == []
    assert admin.deleted == [second, first] and ledger.pending == []


def test_ledger_forgets_records_the_check_removed_itself():
    api = FakeApi()
    ledger = Ledger(lambda: api)
    task = Marker.new("Task", "20261124T231039Z-f61f39")
    record_id = ledger.create(api, task, task.data())
    api.delete("Task", record_id)
    ledger.settled("Task", record_id)
    assert ledger.undo() == [] and api.deleted == [record_id]


@pytest.mark.skipif(sys.platform == "win32", reason="raises SIGTERM in-process")
def test_interrupts_are_held_back_until_cleanup_is_done():
    done = []
    with pytest.raises(KeyboardInterrupt, match="deferred"):
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("cleanup finished")
    assert done == ["cleanup finished"]


UNSURE = Directory([
    user("nostat", "nostat@example.com", status=ABSENT),
    user("odd", "odd@example.com", status="Pending"),
    user("half1", "half@example.com"), user("half2", "half@example.com", status=ABSENT),
    user("noportal", "noportal@example.com", portal=ABSENT),
])


@pytest.mark.parametrize("address, words", [
    ("nostat@example.com", "has no status in the server's reply: whether it is Active cannot be verified"),
    ("odd@example.com", "has the status 'Pending', which is none of Active, Inactive, Info Only"),
    ("half@example.com", "2 CRM users have this primary e-mail (half1 (Half1), half2 (Half2)) and not every status "
                         "is readable"),
    ("noportal@example.com", "no readable portal_only flag"),
])
def test_a_missing_or_unknown_status_is_not_verifiable_never_active(address, words):
    match = UNSURE.match(address)
    assert not match.outcome.passed and not match.outcome.verifiable, match.outcome
    assert words in match.outcome.message
    assert match.user is None or not match.user.usable  # never judged in R4.3 or probed as if active


def test_group_users_are_only_claimed_where_the_server_exposes_them():
    exposed = Directory([user("ann", "ann@example.com")]).match("ann@example.com").outcome
    assert exposed.passed and "neither a group nor a portal-only user" in exposed.message
    hidden = Directory([user("ann", "ann@example.com", group=ABSENT)]).match("ann@example.com").outcome
    assert hidden.passed and "not a group" not in hidden.message.split("(")[0]
    assert "the server does not expose group users" in hidden.message


def test_a_directory_that_could_not_be_listed_matches_nobody_and_says_why():
    directory = Directory([], problem="the connection user cannot list users through the API (HTTP 404: gone)")
    outcome = directory.match("ann@example.com").outcome
    assert not outcome.verifiable and "could not be matched" in outcome.message and "see R3.3" in outcome.message
