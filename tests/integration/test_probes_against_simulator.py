"""R4.4/R4.5 probes in-process against the simulator: records built from its metadata pass on a healthy server
and on a customised one, a refusal reads as a probe design problem or customisation, never as missing rights,
and the Sugar-shaped payloads the probes used to send are caught."""

from __future__ import annotations

from contextlib import contextmanager


import readiness.probes
from crm_simulator import Simulator
from readiness import target_users
from readiness.config import load_settings
from readiness.markers import MARKER
from readiness.payloads import Payload
from readiness.run import ReadinessRun


@contextmanager
def probed(preset: str, **settings):
    """(simulator, run, R4.4 outcomes, R4.5 outcomes) after both probe users probed every datatype."""
    with Simulator(preset, tls=False) as simulator:
        run = ReadinessRun(load_settings({**simulator.env(), "READINESS_ENV_FILE": "none", **settings}))
        try:
            results = target_users.run_probes(run, target_users.probe_users(run))
            yield simulator, run, target_users.crud(results), target_users.ownership(results)
        finally:
            assert run.close() == []


def by_address(outcomes):
    return {o.subject: o for o in outcomes}


def test_healthy_probes_pass_with_metadata_read_once_per_model_for_every_probe_user():
    with probed("healthy") as (simulator, run, crud, ownership):
        assert all(o.passed for o in crud + ownership), [o.message for o in crud + ownership]
        assert len(crud) == 2 and "each of 10 datatypes" in crud[0].message
        assert simulator.stats.count("GET", "/api.php/meta/fields/") == len(run.settings.datatypes)
        assert simulator.store.live_records(title_prefix=MARKER) == []
        # the Opportunities' own Accounts were made and removed: one per probe user, beside the Account probes
        accounts = [k for k, row in simulator.store.snapshot().items() if k[0] == "Account" and row["deleted"] == "1"]
        assert len(accounts) == 4


def test_a_customised_required_field_the_metadata_advertises_is_filled():
    with probed("custom-required-field") as (simulator, _, crud, _ownership):
        assert all(o.passed for o in crud), [o.message for o in crud]


def test_a_required_field_the_metadata_hides_fails_r44_in_the_servers_words():
    with probed("hidden-required-field") as (simulator, _, crud, ownership):
        outcome = by_address(crud)["alice.archer@example.com"]
        assert not outcome.passed and outcome.verifiable
        assert outcome.message == ("1CRM refused the probe Lead: Field 'region' is required — a probe design problem "
                                   "or a server customisation, not missing rights")
        assert by_address(ownership)["alice.archer@example.com"].passed  # the other 9 datatypes are owned right
        assert simulator.store.live_records(title_prefix=MARKER) == []


def sugar_payload(model, meta, marker, fake, refs):
    """The payloads the probes sent before they read the server's metadata (Sugar's shapes)."""
    soon = fake.date_time_between(start_date="+1d", end_date="+30d").strftime("%Y-%m-%d %H:%M:%S")
    sugar = {
        "Meeting": {"date_start": soon, "duration_hours": "0", "duration_minutes": "30"},
        "Task": {"date_due": soon, "priority": "Low", "status": "Not Started"},
        "aCase": {"priority": "P3", "status": "New"},
        "Opportunity": {"amount": "5000", "date_closed": soon[:10], "sales_stage": "Prospecting"},
    }
    return Payload({**marker.data(), **sugar.get(model, {})})


def test_the_old_sugar_shaped_probes_are_refused_and_read_as_a_probe_problem(monkeypatch):
    monkeypatch.setattr(readiness.probes, "build_payload", sugar_payload)
    monkeypatch.setattr(readiness.probes, "references", lambda model, meta: {})
    with probed("healthy", RIVA_DATATYPES="Meeting,Task,aCase,Opportunity,Contact") as (simulator, _, crud, _o):
        message = by_address(crud)["bob.baker@example.com"].message
    for words in ("1CRM refused the probe Meeting: Unknown field 'duration_hours'",
                  "1CRM refused the probe Task: Invalid value 'Low' for field 'priority'",
                  "1CRM refused the probe aCase: Invalid value 'New' for field 'status'",
                  "1CRM refused the probe Opportunity: Field 'account' is required"):
        assert words in message, message
    assert message.count("not missing rights") == 4 and "cannot create" not in message and "Contact" not in message


def test_metadata_that_cannot_be_read_falls_back_to_the_known_shapes_and_says_so(monkeypatch):
    from readiness.fields_meta import FieldsMeta

    monkeypatch.setattr(readiness.run, "read_fields_meta",
                        lambda api, model: FieldsMeta(model, problem=f"GET /meta/fields/{model} failed: HTTP 403"))
    with probed("healthy", RIVA_DATATYPES="Meeting,Task,aCase,Opportunity,Email") as (simulator, _, crud, _o):
        outcome = by_address(crud)["alice.archer@example.com"]
    assert outcome.passed, outcome.message
    assert "the field metadata of Opportunity could not be read (GET /meta/fields/Opportunity failed: HTTP 403)" in \
        outcome.message
    assert any("known defaults" in note for note in outcome.evidence["probe records"])


def test_email_without_a_visible_folder_is_not_verifiable():
    with probed("no-email-folders", RIVA_DATATYPES="Email,Note") as (simulator, _, crud, _o):
        outcome = by_address(crud)["alice.archer@example.com"]
        assert not outcome.verifiable and not outcome.passed
        assert outcome.message == (
            "alice.archer probed 1 of 2 datatypes; not verifiable: Email: no e-mail folder that alice.archer can see "
            "(the API lists none), and the Email field 'folder_ref' requires one: check by hand that alice.archer "
            "can archive e-mail")
        assert simulator.stats.count("POST", "/api.php/data/Email") == 0

