"""Per simulator preset, the finding of R3.x, R4.2 and R4.3, from the domain functions against an in-process
simulator (no whole-suite run): each preset's misconfiguration decides the verdict, and healthy passes."""

from __future__ import annotations

from urllib.parse import parse_qs

import pytest

from crm_simulator import Simulator
from readiness import connection_user, target_users
from readiness.config import load_settings
from readiness.run import ReadinessRun

HEALTHY_TARGETS = ("alice.archer@example.com", "bob.baker@example.com")


def status(outcome) -> str:
    if not outcome.verifiable:
        return "not verifiable"
    return "passed" if outcome.passed else "advisory" if outcome.advisory else "failed"


def findings(preset: str):
    """(simulator, {(requirement, subject): outcome}) for Steps 3 and 4 without the probes."""
    with Simulator(preset, tls=False) as sim:
        run = ReadinessRun(load_settings({**sim.env(), "READINESS_ENV_FILE": "none"}))
        try:
            found = {("R3.1", None): connection_user.active_ordinary_user(run.account),
                     ("R3.2", None): connection_user.administrator(run.account),
                     ("R3.3", None): connection_user.sees_users(lambda: run.directory)}
            found.update({("R4.2", o.subject): o for o in target_users.matches(run.settings.targets, lambda: run.directory)})
            found.update({("R4.3", o.subject): o for o in target_users.role_rights(run)})
            target_users.target_facts(run)  # the evidence table never fails, whatever was readable
        finally:
            run.close()
        return sim, found


def test_healthy_passes_and_every_list_names_its_fields():
    sim, found = findings("healthy")
    assert {k: status(o) for k, o in found.items()} == {
        ("R3.1", None): "passed", ("R3.2", None): "passed", ("R3.3", None): "passed",
        **{("R4.2", t): "passed" for t in HEALTHY_TARGETS}, **{("R4.3", t): "passed" for t in HEALTHY_TARGETS}}
    lists = [(path, parse_qs(query)) for method, path, query in sim.stats.requests
             if method == "GET" and path.startswith("/api.php/data/") and path.count("/") != 4]
    assert {p for p, _ in lists} >= {"/api.php/data/User", "/api.php/data/ACLRole", "/api.php/data/SecurityGroup"}
    assert any(p.endswith("/actions") for p, _ in lists) and any(p.endswith("/aclroles") for p, _ in lists)
    assert all(q.get("fields[]") for _, q in lists), [p for p, q in lists if not q.get("fields[]")]
    assert "the server does not expose group users" in found[("R4.2", HEALTHY_TARGETS[0])].message


@pytest.mark.parametrize("preset, key, expected, words", [
    ("role-relies-on-default-role", ("R4.3", "alice.archer@example.com"), "failed",
     "cannot delete Meeting records: the Default Role (role 'Sales' does not list delete) denies delete (-99, none)"),
    ("target-denied-through-team", ("R4.3", "tina.team@example.com"), "failed",
     "role 'Read only' (through team 'Contractors') denies edit"),
    ("target-without-role", ("R4.3", "nora.norole@example.com"), "failed",
     "target user nora.norole cannot use the Calls module: it is disabled by the Default Role (the user holds no role)"),
    ("role-module-admin-only", ("R4.3", "alice.archer@example.com"), "failed",
     "cannot use the Calls module: it is closed to ordinary users by role 'Sales' (access 99, admin only)"),
    ("role-module-limited", ("R4.3", "alice.archer@example.com"), "passed", "role 'Sales' allows every right"),
    ("role-own-team-only", ("R4.3", "alice.archer@example.com"), "advisory",
     "may create or edit only its own team's Account records (role 'Sales'); may delete only its own team's Account "
     "records (role 'Sales') — records owned by others will fail to sync"),
    ("role-actions-empty", ("R4.3", "alice.archer@example.com"), "not verifiable",
     "rights of role 'Sales' not readable through the API (the reply lists no actions"),
    ("target-info-only", ("R4.2", "ivan.info@example.com"), "failed",
     "ivan.info (Ivan Info) is an Info Only user (cannot sign in), so Riva cannot act as them"),
    ("target-group-user", ("R4.2", "support.team@example.com"), "failed", "support.team (Support Team) is a group user"),
    ("connection-user-cannot-list-users", ("R3.3", None), "failed",
     "the connection user cannot list users through the API (HTTP 403: [Users:list] Access denied)"),
    ("connection-user-cannot-list-users", ("R4.2", "alice.archer@example.com"), "not verifiable", "see R3.3"),
    ("roles-not-readable", ("R4.3", "alice.archer@example.com"), "not verifiable",
     "not verifiable through the API: roles cannot be read"),
])
def test_each_preset_decides_its_finding(preset, key, expected, words):
    _, found = findings(preset)
    outcome = found[key]
    assert status(outcome) == expected, outcome.message
    assert words in outcome.message, outcome.message


def test_the_empty_actions_reply_names_what_to_check_and_who_decides():
    _, found = findings("role-actions-empty")
    message = found[("R4.3", "alice.archer@example.com")].message
    assert "in 1CRM, Admin → Roles → Sales, check Contacts, Leads" in message
    assert message.endswith("the probes of R4.4 decide for this probe user")


def test_without_the_group_field_support_team_is_not_claimed_a_group_nor_a_non_group():
    # the preset target-group-user exposes is_group; on a server that does not, the check cannot fire and says so
    with Simulator("healthy", tls=False) as sim:
        run = ReadinessRun(load_settings({**sim.env(), "READINESS_ENV_FILE": "none"}))
        try:
            outcome = run.directory.match("support.team@example.com").outcome
        finally:
            run.close()
    assert outcome.passed and "the server does not expose group users" in outcome.message
