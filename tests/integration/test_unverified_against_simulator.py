"""Never GO on what was not verified: every check that can be `unverified` driven there in-process, against the
simulator's presets (or hand-built settings), its message naming what to check by hand; and the checks that
still decide on a server without the REST API."""

from __future__ import annotations

import pytest

from crm_simulator import Simulator
from readiness import access, load, rest_api, server_info, sizing, target_users
from readiness.catalogue import REQUIREMENTS
from readiness.config import load_settings
from readiness.errors import CrmError
from readiness.outcome import Outcome
from readiness.run import ReadinessRun
from readiness.verdict import decide, findings_from_outcomes
from suite_runner import QUICK_LOAD


def run_for(simulator: Simulator, **overrides) -> ReadinessRun:
    env = {**simulator.env(), "READINESS_ENV_FILE": "none", **QUICK_LOAD, **overrides}
    return ReadinessRun(load_settings({k: v for k, v in env.items() if v is not None}))


def verdict_of(requirement: str, outcomes: list[Outcome]) -> tuple[list[tuple[str | None, str]], str]:
    findings = findings_from_outcomes(REQUIREMENTS[requirement], outcomes)
    return [(f.subject, f.status) for f in findings], decide(findings).word


# -- is there a REST API? ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    "preset, available, detail",
    [
        ("healthy", True, r"/api\.php/version answers"),
        ("version-hidden", True, r"GET /me asks for a sign-in; /version gave HTTP 404"),  # the API is there
        ("non-tls-refused", True, r"refuses calls over plain http \(see R1\.5\)"),  # refuses plain http (R1.5 says so), but exists
        ("startup-edition", False, r"/version answers HTTP 403, as every API call of an edition without the REST API"),
        ("infoathand-7", False, r"no https://localhost:\d+/1crm/api\.php on this server \(GET /version: HTTP 404, "
                                r"GET /me: HTTP 404\): info@hand before 8"),
    ],
)
def test_the_rest_api_is_taken_as_missing_only_on_a_clear_sign(preset, available, detail):
    import re

    with Simulator(preset, tls=preset != "non-tls-refused") as simulator:
        presence = run_for(simulator).rest_api
    assert presence.available is available
    assert re.search(detail, presence.detail), presence.detail


def test_an_unreachable_server_is_not_taken_for_one_without_the_api():
    with Simulator("plain-http") as gone:
        url = gone.url
    presence = ReadinessRun(load_settings({"CRM_URL": url, "READINESS_ENV_FILE": "none", "CRM_TIMEOUT": "2"})).rest_api
    assert presence.available  # the API checks run and report the network error themselves


# -- a server without the REST API: what still decides, and what is unverified -----------------------


def test_info_at_hand_7_without_api_php_decides_everything_the_web_can_show():
    with Simulator("infoathand-7") as simulator:
        run = run_for(simulator, READINESS_LOAD_SECONDS="3")  # each web sign-in takes three pages
        settings = run.settings
        server = run.server
        refused = access.unknown_user_refused(settings.crm, run.session(), run.api_as, rest_api=False)
        result = load.probe(settings, settings.connection_user, run.redactor, web=True)
        pages = {s.operation for s in result.samples}
    assert (server.version, server.source) == ("7.1.3", "the About page")
    assert server_info.judge(server).passed and "7.1.3, on-premise (from the About page)" in server_info.judge(server).message
    assert refused.passed and "refused by the web login" in refused.message and "no REST API" in refused.message
    outcome = load.judge(result)
    assert outcome.passed, outcome.message
    assert "on the web pages of the synced modules: this server has no REST API" in outcome.message
    assert {"sign in", "page Contacts", "page Meetings", "page Users"} <= pages
    assert sizing.judge(settings) and all(o.passed for o in sizing.judge(settings))  # R2.3 from the simulator's facts


def test_the_web_load_probe_fails_where_the_pages_are_refused():
    with Simulator("session-lost") as simulator:
        run = run_for(simulator)
        result = load.probe(run.settings, run.settings.connection_user, run.redactor, web=True)
    outcome = load.judge(result)
    assert not outcome.passed and outcome.message.startswith("the load probe did not start: its first sign-in failed")


@pytest.mark.parametrize(
    "requirement, by_hand",
    [
        ("R1.5", r"no api\.php\. Riva connects through the API of editions that have it, and needs none .* check by "
                 r"hand: in Riva's connection wizard, the connection test with riva_svc succeeds"),
        ("R3.1", r"Admin → User Management, open riva_svc: its Status is Active, and it is neither a group user"),
        ("R3.2", r"open riva_svc: Administrator is ticked on its user record"),
        ("R3.3", r"sign in to 1CRM as riva_svc: Admin → User Management lists every user of targets\.csv "
                 r"\(2 mailboxes\)"),
        ("R3.4", r"riva_svc must be none of the 2 mailboxes of targets\.csv"),
        ("R3.5", r"its password does not expire"),
        ("R4.2", r"search for alice\.archer@example\.com: exactly one user has it as primary e-mail"),
        ("R4.3", r"Admin → Roles → each of those roles: Contacts, Leads, .* allow Access \(Enabled\), View, List, Edit, "
                 r"Delete, Import and Export"),
        ("R4.4", r"sign in to 1CRM in a browser as the user of alice\.archer@example\.com and create, open, modify "
                 r"and delete a record of each of Contacts"),
        ("R4.5", r"show that user as Assigned to, Created by and Modified by"),
    ],
)
def test_each_api_check_on_a_server_without_it_is_unverified_with_its_manual_check(requirement, by_hand):
    import re

    with Simulator("healthy") as simulator:
        settings = run_for(simulator).settings
    outcomes = rest_api.manual_checks(requirement, settings, rest_api.RestApi(False, "no api.php"))
    statuses, word = verdict_of(requirement, outcomes)
    assert {status for _, status in statuses} == {"unverified"}
    assert all(o.message.startswith("not verifiable: this server has no REST API: ") for o in outcomes)
    assert re.search(by_hand, outcomes[0].message), outcomes[0].message
    assert word == ("GO" if requirement in ("R3.4", "R3.5") else "INCOMPLETE")  # advisory ones never block
    if requirement.startswith("R4."):
        assert {o.subject for o in outcomes} == {"alice.archer@example.com", "bob.baker@example.com"}


# -- unverified in this run, on a server that has the API ----------------------------------------------


def test_read_only_mode_and_a_target_list_without_probe_users_leave_r44_unverified():
    with Simulator("healthy") as simulator:
        read_only = target_users.probe_users(run_for(simulator, READINESS_MODE="read-only"))
    with Simulator("no-probe-users") as simulator:
        none = target_users.probe_users(run_for(simulator))
    assert not read_only.verifiable and not none.verifiable
    assert read_only.message.startswith("read-only mode: no probe record is created — run again without "
                                        "READINESS_MODE=read-only, or check by hand: sign in to 1CRM in a browser")
    assert none.message.startswith("no probe users: give one or two rows of the target list a password_env column")
    assert "Assigned to, Created by and Modified by" in none.message
    assert verdict_of("R4.4", [none]) == ([(None, "unverified")], "INCOMPLETE")


def test_roles_that_cannot_be_read_leave_r43_unverified_per_target_with_the_roles_to_open():
    with Simulator("roles-not-readable") as simulator:
        outcomes = target_users.role_rights(run_for(simulator))
    assert verdict_of("R4.3", outcomes) == ([("alice.archer@example.com", "unverified"),
                                             ("bob.baker@example.com", "unverified")], "INCOMPLETE")
    assert "roles cannot be read" in outcomes[0].message
    assert "check by hand: in 1CRM, Admin → User Management, note the roles of the user of alice.archer@example.com" \
        in outcomes[0].message and "Admin → Roles → each of them: Contacts" in outcomes[0].message


def test_on_premise_without_server_facts_r23_is_unverified_and_hosted_it_does_not_apply():
    settings = load_settings({"CRM_URL": "https://crm.example.com", "READINESS_ENV_FILE": "none"})
    outcome = sizing.without_facts(settings)
    assert verdict_of("R2.3", [outcome]) == ([(None, "unverified")], "INCOMPLETE")
    assert outcome.message.startswith("no server facts: run tools/collect-server-facts.sh on the CRM host")
    assert "or check by hand on the CRM host: MaxRequestWorkers (PHP-FPM: pm.max_children) x the average PHP worker " \
           "memory + 20% fits in RAM - 2048 MB; MaxRequestWorkers is at least 16" in outcome.message
    assert sizing.skip_reason(True, settings.sizing).startswith("does not apply: a hosted service")


def test_the_simulator_hands_out_facts_that_fit_its_preset():
    with Simulator("healthy") as healthy, Simulator("undersized") as undersized:
        fits = sizing.judge(run_for(healthy).settings)
        short = sizing.judge(run_for(undersized).settings)
    assert all(o.passed for o in fits)
    assert [o.subject for o in short if not o.passed] == ["worker ceiling"]


def test_an_html_error_page_on_every_api_call_is_no_proof_that_the_api_is_missing():
    with Simulator("healthy", faults=["html-error:count=all,scope=/api.php/"]) as simulator:
        presence = run_for(simulator).rest_api
    assert presence.available and presence.detail.startswith("not established (GET /api.php/version: "), presence.detail


def test_a_server_without_a_password_expiry_field_leaves_the_advisory_r35_unverified_with_the_manual_check():
    from readiness.connection_user import Account, password_expiry
    from readiness.users import CrmUser

    from readiness.fields_meta import parse_fields_meta

    no_expiry_field = parse_fields_meta("User", {"fields": {"user_name": {}, "status": {}}})
    account = Account(CrmUser.from_record({"id": "1", "user_name": "riva_svc", "is_admin": "1"}))
    outcome = password_expiry(None, no_expiry_field, account)  # no request is needed to tell
    assert verdict_of("R3.5", [outcome]) == ([(None, "unverified")], "GO")  # advisory: never blocks
    assert "Admin → User Management → riva_svc: its password does not expire within 14 days" in outcome.message


class _UserReader:
    """The connection user's API, as far as R3.5 reads it: one User record, or the error reading it gives."""

    def __init__(self, reply):
        self.reply = reply

    def read(self, model, record_id, fields):
        if isinstance(self.reply, Exception):
            raise self.reply
        return self.reply


@pytest.mark.parametrize(
    "listed, reply, why",
    [
        (None, None, "the User field list cannot be read (GET /meta/fields/User failed: HTTP 403)"),
        ({"password_expires": {}}, CrmError("HTTP 500 Internal Server Error"),
         "the password_expires of riva_svc cannot be read (HTTP 500 Internal Server Error)"),
        ({"password_expires": {}}, {"password_expires": "soon"}, "the password expiry 'soon' is not a date"),
    ],
)
def test_every_way_the_api_leaves_r35_open_names_the_manual_check(listed, reply, why):
    from readiness.connection_user import Account, password_expiry
    from readiness.fields_meta import FieldsMeta, parse_fields_meta
    from readiness.users import CrmUser

    meta = FieldsMeta("User", problem="GET /meta/fields/User failed: HTTP 403") if listed is None else \
        parse_fields_meta("User", {"fields": {"user_name": {}, **listed}})
    account = Account(CrmUser.from_record({"id": "1", "user_name": "riva_svc", "is_admin": "1"}))
    outcome = password_expiry(_UserReader(reply), meta, account)
    assert verdict_of("R3.5", [outcome]) == ([(None, "unverified")], "GO")
    assert outcome.message == f"{why} — check by hand: in 1CRM, Admin → Password Management, and Admin → User " \
                              "Management → riva_svc: its password does not expire within 14 days"


def test_a_target_that_could_not_be_probed_leaves_r45_unverified_with_the_manual_check():
    from readiness.targets import Target

    unmatched = target_users.Probed(target_users.ProbeUser(Target("nobody@example.com", 2, "P"), None), None, [])
    [outcome] = target_users.ownership({"nobody@example.com": unmatched})
    assert verdict_of("R4.5", [outcome]) == ([("nobody@example.com", "unverified")], "INCOMPLETE")
    assert outcome.message == "nobody@example.com could not be probed (see R4.4) — check by hand: in 1CRM, open a " \
                              "record of each synced module made by the user of nobody@example.com: it shows that " \
                              "user as Assigned to, Created by and Modified by"
