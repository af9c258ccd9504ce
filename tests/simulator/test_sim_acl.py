"""ACL enforcement: role rights per module and action, owner-only, most restrictive role, admin bypass."""

import pytest

from crm_simulator import Simulator
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
    # creating for someone else is editing someone else's record
    _denied(client.post("/api.php/data/Account", token=token,
                        json={"data": {"name": "x", "assigned_user_id": client.user_id("alice.archer")}}),
            "[Accounts:edit]")
    assert client.post("/api.php/data/Account", token=token, json={"data": {"name": "own"}}).status_code == 200


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


def test_user_without_role_is_unrestricted_but_no_admin(client_for):
    # connection-user-not-admin: riva_svc has no role and loses is_admin
    with Simulator("connection-user-not-admin", tls=False) as sim:
        c = client_for(sim)
        token = c.token()
        me = c.get(f"/api.php/data/User/{c.user_id('riva_svc')}", token=token).json()["record"]
        assert me["is_admin"] == "0" and me["status"] == "Active"
        record_id = c.post("/api.php/data/Opportunity", token=token, json={"data": c.sample("Opportunity")}).json()["id"]
        assert c.delete(f"/api.php/data/Opportunity/{record_id}", token=token).status_code == 200
        _denied(c.get("/api.php/data/ACLRole", token=token), "[ACLRoles:list]")
