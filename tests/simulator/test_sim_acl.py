"""ACL enforcement: role rights per module and action, owner-only, most restrictive role, admin bypass, the
Default Role, roles through teams and the levels of 1crm-api.md §7."""

from dataclasses import replace
from types import MappingProxyType

import pytest

from crm_simulator import PRESETS, Simulator
from crm_simulator.acl import user_levels
from crm_simulator.schema import RECORD_MODEL_NAMES

MEETING = {"name": "Probe", "date_start": "2030-01-01 10:00:00"}


@pytest.fixture(scope="module")
def tokens(client):
    return {name: client.token(name) for name in ("riva_svc", "alice.archer", "sam.support", "rita.reader", "mia.multi")}


def _denied(reply, hint):
    assert reply.status_code == 403, reply.text
    assert reply.json() == {"message": "Access denied", "error": "access_denied", "hint": hint}


@pytest.mark.parametrize("model", RECORD_MODEL_NAMES)
def test_target_user_with_full_role_can_do_everything_and_owns_it(client, tokens, model):
    token = tokens["alice.archer"]
    alice_id = client.user_id("alice.archer")
    created = client.post(f"/api.php/data/{model}", token=token, json={"data": client.sample(model, "alice.archer")})
    assert created.status_code == 200, created.text
    record_id = created.json()["id"]
    record = client.get(f"/api.php/data/{model}/{record_id}", token=token).json()["record"]
    assert (record["assigned_user_id"], record["created_by"], record["modified_user_id"]) == (alice_id,) * 3
    assert client.patch(f"/api.php/data/{model}/{record_id}", token=token,
                        json={"data": {"description": "changed"}}).status_code == 200
    assert client.delete(f"/api.php/data/{model}/{record_id}", token=token).status_code == 200


def test_role_denying_delete(client, tokens):
    token = tokens["sam.support"]
    record_id = client.post("/api.php/data/Contact", token=token, json={"data": {"last_name": "Probe"}}).json()["id"]
    _denied(client.delete(f"/api.php/data/Contact/{record_id}", token=token), "[Contacts:delete]")
    _denied(client.post(f"/api.php/data/Contact/{record_id}", token=token,
                        headers={"X-HTTP-Method-Override": "DELETE"}), "[Contacts:delete]")
    assert client.get(f"/api.php/data/Contact/{record_id}", token=token).status_code == 200


def test_disabled_module_forbids_everything(client, tokens, admin_token):
    token = tokens["sam.support"]
    _denied(client.get("/api.php/data/Opportunity", token=token), "[Opportunities:access]")
    _denied(client.post("/api.php/data/Opportunity", token=token, json={"data": {"name": "x"}}),
            "[Opportunities:access]")
    any_id = client.get("/api.php/data/Opportunity", token=admin_token).json()["records"][0]["id"]
    _denied(client.get(f"/api.php/data/Opportunity/{any_id}", token=token), "[Opportunities:access]")


def test_owner_only_rights(client, tokens, admin_token):
    token = tokens["sam.support"]
    sam_id = client.user_id("sam.support")
    mine = client.get("/api.php/data/Account", token=token, params={"fields[]": "assigned_user_id", "limit": 200}).json()
    everything = client.get("/api.php/data/Account", token=admin_token, params={"limit": 200}).json()
    assert 0 < mine["total_results"] < everything["total_results"]
    assert {r["assigned_user_id"] for r in mine["records"]} == {sam_id}
    others = [r for r in client.get("/api.php/data/Account", token=admin_token,
                                    params={"fields[]": "assigned_user_id", "limit": 200}).json()["records"]
              if r["assigned_user_id"] == client.user_id("alice.archer")]
    _denied(client.get(f"/api.php/data/Account/{others[0]['id']}", token=token), "[Accounts:view]")
    _denied(client.patch(f"/api.php/data/Account/{others[0]['id']}", token=token, json={"data": {"name": "x"}}),
            "[Accounts:edit]")
    own = mine["records"][0]["id"]
    assert client.patch(f"/api.php/data/Account/{own}", token=token, json={"data": {"industry": "Retail"}}).status_code == 200
    # the server assigns a new record to its creator (assigned_user_id is not editable, 1crm-api.md §5)
    created = client.post("/api.php/data/Account", token=token,
                          json={"data": {"name": "own", "assigned_user_id": client.user_id("alice.archer")}})
    assert created.status_code == 200
    record = client.get(f"/api.php/data/Account/{created.json()['id']}", token=token).json()["record"]
    assert record["assigned_user_id"] == sam_id


def test_read_only_role(client, tokens):
    token = tokens["rita.reader"]
    assert client.get("/api.php/data/Meeting", token=token).status_code == 200
    _denied(client.post("/api.php/data/Meeting", token=token, json={"data": MEETING}), "[Meetings:edit]")


def test_most_restrictive_role_wins(client, tokens):
    # mia.multi holds "Sales" (everything) and "Read only" (no edit)
    _denied(client.post("/api.php/data/Contact", token=tokens["mia.multi"], json={"data": {"last_name": "x"}}),
            "[Contacts:edit]")
    assert client.get("/api.php/data/Contact", token=tokens["mia.multi"]).status_code == 200


def test_admin_bypasses_rights_and_reads_roles(client, tokens):
    assert client.get("/api.php/data/ACLRole", token=tokens["riva_svc"]).status_code == 200
    record_id = client.post("/api.php/data/Opportunity", token=tokens["riva_svc"],
                            json={"data": client.sample("Opportunity")}).json()["id"]
    assert client.delete(f"/api.php/data/Opportunity/{record_id}", token=tokens["riva_svc"]).status_code == 200


def test_non_admins_read_users_but_not_roles(client, tokens):
    token = tokens["alice.archer"]
    assert client.get("/api.php/data/User", token=token).json()["total_results"] > 30
    alice_id = client.user_id("alice.archer")
    for path in ("/api.php/data/ACLRole", f"/api.php/data/User/{alice_id}/aclroles"):
        reply = client.get(path, token=token)
        assert reply.status_code == 403 and reply.json()["error"] == "access_denied"


def test_user_without_role_gets_the_default_role_and_no_admin_rights(client_for):
    # connection-user-not-admin: riva_svc has no role and loses is_admin; the Default Role (every right) applies
    with Simulator("connection-user-not-admin", tls=False) as sim:
        c = client_for(sim)
        token = c.token()
        me = c.get(f"/api.php/data/User/{c.user_id('riva_svc')}", token=token).json()["record"]
        assert me["is_admin"] == "0" and me["status"] == "Active"
        record_id = c.post("/api.php/data/Opportunity", token=token, json={"data": c.sample("Opportunity")}).json()["id"]
        assert c.delete(f"/api.php/data/Opportunity/{record_id}", token=token).status_code == 200
        _denied(c.get("/api.php/data/ACLRole", token=token), "[ACLRoles:list]")


def _rights(sim, client, role_name, admin):
    roles = client.get("/api.php/data/ACLRole", token=admin, params={"limit": 200}).json()["records"]
    role_id = next(r["id"] for r in roles if r["name"] == role_name)
    rows = client.get(f"/api.php/data/ACLRole/{role_id}/actions", token=admin,
                      params={"limit": 200, "fields[0]": "category", "fields[1]": "name", "fields[2]": "aclaccess"})
    return {(r["category"], r["name"]): r["aclaccess"] for r in rows.json()["records"]}


def test_the_default_role_is_seeded_editable_and_lists_every_right(client, admin_token):
    roles = client.get("/api.php/data/ACLRole", token=admin_token).json()["records"]
    assert {"id": "default_-role-0000-0000-000000000001", "name": "Default Role"} in roles
    rights = _rights(None, client, "Default Role", admin_token)
    assert rights[("Meetings", "delete")] == 90 and rights[("Calls", "access")] == 89


def test_an_unlisted_action_falls_back_to_the_default_role(client_for):
    with Simulator("role-relies-on-default-role", tls=False) as sim:
        c = client_for(sim)
        admin = c.token()
        assert ("Meetings", "delete") not in _rights(sim, c, "Sales", admin)  # Sales does not list it
        assert _rights(sim, c, "Default Role", admin)[("Meetings", "delete")] == -99
        alice = c.token("alice.archer")
        record_id = c.post("/api.php/data/Meeting", token=alice, json={"data": c.sample("Meeting", "alice.archer")}).json()["id"]
        _denied(c.delete(f"/api.php/data/Meeting/{record_id}", token=alice), "[Meetings:delete]")
        assert c.delete(f"/api.php/data/Meeting/{record_id}", token=admin).status_code == 200


def test_a_role_held_through_a_team_is_enforced(client, admin_token):
    teams = client.get("/api.php/data/SecurityGroup", token=admin_token).json()
    by_name = {t["name"]: t["id"] for t in teams["records"]}
    assert set(by_name) == {"Sales team", "Contractors"} and set(teams["records"][0]) == {"id", "name"}
    members = client.get(f"/api.php/data/SecurityGroup/{by_name['Contractors']}/users", token=admin_token,
                         params={"fields[]": "user_name"}).json()["records"]
    assert [m["user_name"] for m in members] == ["tina.team"]
    roles = client.get(f"/api.php/data/SecurityGroup/{by_name['Contractors']}/aclroles", token=admin_token).json()
    assert [r["name"] for r in roles["records"]] == ["Read only"]
    tina_id = client.user_id("tina.team")
    assert client.get(f"/api.php/data/User/{tina_id}/aclroles", token=admin_token).json()["records"] == []  # no own role
    assert len(client.sim.store.roles_held(tina_id)) == 1  # yet she holds 'Read only' through her team
    # tina's password is unknown: the rule is checked in the simulator's ACL directly
    assert user_levels(client.sim.store, tina_id, "Contacts", "edit") == (89, -99)
    assert user_levels(client.sim.store, client.user_id("alice.archer"), "Contacts", "edit") == (89, 90)
    _denied(client.get("/api.php/data/SecurityGroup", token=client.token("alice.archer")), "[SecurityGroups:list]")


@pytest.mark.parametrize("preset, model, expected", [
    ("role-module-admin-only", "Call", 403),  # access 99: closed to ordinary users
    ("role-module-limited", "Call", 200),  # access 88: open
])
def test_module_access_levels(client_for, preset, model, expected):
    with Simulator(preset, tls=False) as sim:
        c = client_for(sim)
        reply = c.get(f"/api.php/data/{model}", token=c.token("alice.archer"))
        assert reply.status_code == expected, reply.text
        if expected == 403:
            _denied(reply, "[Calls:access]")


def test_own_team_level_allows_own_records_only(client_for):
    with Simulator("role-own-team-only", tls=False) as sim:
        c = client_for(sim)
        alice, admin = c.token("alice.archer"), c.token()
        own = c.post("/api.php/data/Account", token=alice, json={"data": c.sample("Account", "alice.archer")}).json()["id"]
        listed = c.get("/api.php/data/Account", token=admin, params={"fields[]": "assigned_user_id", "limit": 200})
        bob = c.user_id("bob.baker")  # ownership is no advertised filter (1crm-api.md §3): filtered here
        others = [r for r in listed.json()["records"] if r["assigned_user_id"] == bob]
        _denied(c.delete(f"/api.php/data/Account/{others[0]['id']}", token=alice), "[Accounts:delete]")
        assert c.delete(f"/api.php/data/Account/{own}", token=alice).status_code == 200


def test_role_actions_empty_preset_answers_an_empty_list(client_for):
    with Simulator("role-actions-empty", tls=False) as sim:
        c = client_for(sim)
        admin = c.token()
        roles = c.get("/api.php/data/ACLRole", token=admin).json()["records"]
        assert all(c.get(f"/api.php/data/ACLRole/{r['id']}/actions", token=admin).json() ==
                   {"records": [], "total_results": 0} for r in roles)
        # the rights still hold: only their reply is empty
        _denied(c.post("/api.php/data/Contact", token=c.token("rita.reader"), json={"data": {"last_name": "x"}}),
                "[Contacts:edit]")


def test_info_only_users_cannot_sign_in(client, client_for):
    assert client.sim.store.user_by_name("ivan.info")["status"] == "Info Only"
    info_only = replace(PRESETS["healthy"], name="alice-info-only",
                        user_overrides=MappingProxyType({"alice.archer": MappingProxyType({"status": "Info Only"})}))
    with Simulator(info_only, tls=False) as sim:
        reply = client_for(sim).grant("alice.archer")  # her right password
        assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"  # refused like a wrong password
