"""REST API data endpoints: lists, fields, filters, CRUD, ownership, audit, method override, stats."""

import re

import pytest

from crm_simulator import CONNECTION_USER, Simulator
from crm_simulator.schema import MODELS, RECORD_MODEL_NAMES

DATETIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")


@pytest.fixture(scope="module")
def riva_id(client):
    return client.user_id(CONNECTION_USER)


# ----- lists ------------------------------------------------------------------------------------


def test_user_list_default_fields_and_paging(client, admin_token):
    reply = client.get("/api.php/data/User", token=admin_token)
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"records", "total_results"}
    assert len(body["records"]) == 20  # default limit
    total = body["total_results"]
    assert total > 30
    # without fields[] only the default set: a client that forgets fields[] gets no e-mail, status or flags
    assert set(body["records"][0]) == {"name", "first_name", "id", "last_name"}
    assert all(len(r["id"]) == 36 for r in body["records"])
    # page through with offset until total_results
    seen = []
    offset = 0
    while offset < total:
        page = client.get("/api.php/data/User", token=admin_token, params={"offset": offset, "limit": 7}).json()
        assert page["total_results"] == total
        seen += [r["id"] for r in page["records"]]
        offset += 7
    assert len(seen) == total == len(set(seen))
    assert not any("password" in k or "hash" in k for r in body["records"] for k in r)


def test_limit_is_clamped_to_200(client, admin_token, healthy, riva_id):
    note = MODELS["Note"]
    for n in range(195):  # straight into the store: quicker than 195 requests
        healthy.store.create(note, {"name": f"bulk note {n}"}, riva_id)
    reply = client.get("/api.php/data/Note", token=admin_token, params={"limit": 1000})
    body = reply.json()
    assert reply.status_code == 200
    assert len(body["records"]) == 200
    assert body["total_results"] >= 215
    rest = client.get("/api.php/data/Note", token=admin_token, params={"limit": 200, "offset": 200}).json()
    assert len(rest["records"]) == body["total_results"] - 200


def test_bad_paging_values_are_400(client, admin_token):
    for params in ({"limit": "abc"}, {"offset": -1}):
        reply = client.get("/api.php/data/User", token=admin_token, params=params)
        assert reply.status_code == 400 and reply.json()["error"] == "invalid_request"


def test_fields_and_order(client, admin_token):
    params = {"fields[]": ["user_name", "is_admin", "is_group", "portal_only", "email2"], "order": "user_name DESC",
              "limit": 200}
    records = client.get("/api.php/data/User", token=admin_token, params=params).json()["records"]
    assert set(records[0]) == {"id", "user_name", "is_admin", "portal_only", "email2"}  # no is_group (§6)
    names = [r["user_name"] for r in records]
    assert names == sorted(names, key=str.lower, reverse=True)
    by_name = {r["user_name"]: r for r in records}
    assert by_name["riva_svc"]["is_admin"] == "1"
    assert by_name["alice.archer"]["is_admin"] == "0"
    assert by_name["paula.portal"]["portal_only"] == "1"
    reply = client.get("/api.php/data/User", token=admin_token, params={"order": "no_such_field"})
    assert reply.status_code == 400


def test_fields_indexed_like_phps_own_client_are_read_like_fields_brackets(client, admin_token):
    # 1CRM's PHP client sends fields[0]=..&fields[1]=..; PHP reads both forms alike (1crm-api.md §3)
    indexed = client.get("/api.php/data/User", token=admin_token,
                         params={"fields[0]": "user_name", "fields[1]": "status", "limit": 200}).json()["records"]
    bracketed = client.get("/api.php/data/User", token=admin_token,
                           params={"fields[]": ["user_name", "status"], "limit": 200}).json()["records"]
    assert indexed == bracketed and set(indexed[0]) == {"id", "user_name", "status"}
    alice_id = client.user_id("alice.archer")
    one = client.get(f"/api.php/data/User/{alice_id}", token=admin_token, params={"fields[0]": "email1"}).json()
    assert one["record"] == {"id": alice_id, "email1": "alice.archer@example.com"}


def test_related_lists_without_fields_give_the_default_set_only(client, admin_token):
    roles = {r["name"]: r["id"] for r in client.get("/api.php/data/ACLRole", token=admin_token).json()["records"]}
    actions = client.get(f"/api.php/data/ACLRole/{roles['Sales']}/actions", token=admin_token).json()["records"]
    assert set(actions[0]) == {"id", "name"}  # no category, acltype or aclaccess: a client must ask for them
    holders = client.get(f"/api.php/data/ACLRole/{roles['Sales']}/users", token=admin_token).json()["records"]
    assert set(holders[0]) == {"name", "first_name", "id", "last_name"}
    teams = client.get("/api.php/data/SecurityGroup", token=admin_token).json()["records"]
    members = client.get(f"/api.php/data/SecurityGroup/{teams[0]['id']}/users", token=admin_token).json()["records"]
    assert set(members[0]) == {"name", "first_name", "id", "last_name"}
    asked = client.get(f"/api.php/data/SecurityGroup/{teams[0]['id']}/users", token=admin_token,
                       params={"fields[]": ["user_name", "email1", "is_group", "nonsense"]}).json()["records"]
    assert set(asked[0]) == {"id", "user_name", "email1"}  # is_group is not exposed, unknown fields are left out


def test_is_group_only_under_the_preset_that_exposes_it(client_for):
    with Simulator("target-group-user", tls=False) as sim:
        c = client_for(sim)
        admin = c.token()
        users = c.get("/api.php/data/User", token=admin, params={"fields[]": ["user_name", "is_group"], "limit": 200})
        by_name = {u["user_name"]: u for u in users.json()["records"]}
        assert by_name["support.team"]["is_group"] == "1" and by_name["alice.archer"]["is_group"] == "0"
        assert "is_group" in c.get("/api.php/meta/fields/User", token=admin).json()["fields"]


def test_advertised_filters_work_by_prefix_and_others_are_refused(client, admin_token, riva_id):
    meta = client.get("/api.php/meta/fields/User", token=admin_token).json()
    assert set(meta["filters"]) == {"user_name", "status"}
    assert meta["fields"]["email1"] == {"vname": "Email", "type": "email", "required": False, "editable": True}
    assert meta["fields"]["id"]["editable"] is False
    contact = client.get("/api.php/meta/fields/Contact", token=admin_token).json()["filters"]
    assert set(contact) == {"first_name", "last_name"}  # ownership is not a filter (1crm-api.md §3)

    one = client.get("/api.php/data/User", token=admin_token, params={"filters[user_name]": "alice.archer", "fields[]": "email1"}).json()
    assert one["total_results"] == 1 and one["records"][0]["email1"] == "alice.archer@example.com"
    prefix = client.get("/api.php/data/User", token=admin_token,
                        params={"filters[user_name]": "shared.", "fields[]": "user_name"}).json()
    assert {r["user_name"] for r in prefix["records"]} == {"shared.one", "shared.two"}
    inactive = client.get("/api.php/data/User", token=admin_token,
                          params={"filters[status]": "Inactive", "fields[]": "status", "limit": 200}).json()
    assert inactive["total_results"] >= 2 and {r["status"] for r in inactive["records"]} == {"Inactive"}
    literal = client.get("/api.php/data/User", token=admin_token, params={"filters[user_name]": "%"}).json()
    assert literal["total_results"] == 0  # a wildcard character is matched as itself

    for refused in ({"filters[email1]": "alice.archer@example.com"}, {"filters[assigned_user_id]": riva_id}):
        reply = client.get("/api.php/data/User" if "filters[email1]" in refused else "/api.php/data/Contact",
                           token=admin_token, params=refused)
        assert reply.status_code == 400


def test_record_metadata_advertises_1crm_fields_options_defaults_and_references(client, admin_token):
    def meta(model):
        return client.get(f"/api.php/meta/fields/{model}", token=admin_token).json()

    meeting = meta("Meeting")["fields"]
    assert meeting["duration"]["type"] == "int" and not {"duration_hours", "duration_minutes"} & set(meeting)
    task = meta("Task")["fields"]
    assert task["priority"]["options"] == {"P0": "Low", "P1": "Medium", "P2": "High"} and task["priority"]["default"] == "P1"
    assert task["status"]["default"] == "Not Started"
    case = meta("aCase")["fields"]["status"]
    assert case["default"] == "Active - New" and "Closed - No Fault" in case["options"]
    opportunity = meta("Opportunity")["fields"]
    assert opportunity["account"] == {"vname": "Account", "type": "ref", "required": True, "editable": True,
                                      "bean_name": "Account"}
    assert meta("Email")["fields"]["folder_ref"]["required"] and meta("Email")["fields"]["folder_ref"]["bean_name"] == "EmailFolder"
    project = meta("Project")["fields"]
    assert {"date_starting", "date_ending", "project_phase", "account"} <= {n for n, f in project.items() if f["required"]}
    assert not {"date_start", "status"} & set(project)
    assert meta("Lead")["fields"]["status"]["default"] == "New"
    assert set(meta("Opportunity")["filters"]) == {"name"}


@pytest.mark.parametrize("model, data, words", [
    ("Meeting", {"name": "x", "date_start": "2030-01-01 10:00:00", "duration_hours": "0", "duration_minutes": "30"},
     "Unknown field 'duration_hours'"),
    ("Task", {"name": "x", "priority": "Low"}, "Invalid value 'Low' for field 'priority': expected one of P0, P1, P2"),
    ("aCase", {"name": "x", "status": "New"}, "Invalid value 'New' for field 'status'"),
    ("Opportunity", {"name": "x", "amount": "1000", "date_closed": "2030-01-31", "sales_stage": "Prospecting"},
     "Field 'account' is required"),
    ("Opportunity", {"name": "x", "account": "no-such-account", "amount": "1", "date_closed": "2030-01-31"},
     "Invalid value 'no-such-account' for field 'account': no Account record has this id"),
    ("Email", {"name": "x"}, "Field 'folder_ref' is required"),
    ("Project", {"name": "x", "date_start": "2030-01-01"}, "Unknown field 'date_start'"),
    ("Meeting", {"name": "x", "date_start": "01/02/2030 10:00"}, "expected a datetime as Y-m-d H:i:s"),
    ("Opportunity", {"name": "x", "account": "", "amount": "lots", "date_closed": "2030-01-31"}, "expected a number"),
])
def test_sugar_shaped_or_invalid_creates_are_refused_naming_the_field(client, admin_token, model, data, words):
    reply = client.post(f"/api.php/data/{model}", token=admin_token, json={"data": data})
    assert reply.status_code == 400 and words in reply.json()["message"], reply.text


def test_defaults_are_applied_and_valid_1crm_shaped_creates_pass(client, admin_token):
    for model in ("Task", "aCase", "Opportunity", "Email", "Project", "Meeting"):
        reply = client.post(f"/api.php/data/{model}", token=admin_token, json={"data": client.sample(model)})
        assert reply.status_code == 200, (model, reply.text)
    task = client.post("/api.php/data/Task", token=admin_token, json={"data": {"name": "defaults"}}).json()["id"]
    record = client.get(f"/api.php/data/Task/{task}", token=admin_token, params={"fields[]": ["priority", "status"]})
    assert record.json()["record"] == {"id": task, "priority": "P1", "status": "Not Started"}
    reply = client.patch(f"/api.php/data/Task/{task}", token=admin_token, json={"data": {"priority": "High"}})
    assert reply.status_code == 400 and "'priority'" in reply.json()["message"]


def test_email_folders_are_listed_per_user_and_read_only(client, admin_token):
    alice = client.token("alice.archer")
    folders = client.get("/api.php/data/EmailFolder", token=alice, params={"fields[]": ["name", "assigned_user_id"]})
    records = folders.json()["records"]
    assert {r["name"] for r in records} == {"Inbox", "Sent Items", "Archive"}
    assert {r["assigned_user_id"] for r in records} == {client.user_id("alice.archer")}
    assert client.post("/api.php/data/EmailFolder", token=alice, json={"data": {"name": "x"}}).status_code == 405
    assert client.delete(f"/api.php/data/EmailFolder/{records[0]['id']}", token=alice).status_code == 405


def test_a_customised_required_field_is_advertised_or_not_as_the_preset_says(client_for):
    from crm_simulator import Simulator

    with Simulator("custom-required-field", tls=False) as sim:
        c = client_for(sim)
        token = c.token()
        field = c.get("/api.php/meta/fields/Contact", token=token).json()["fields"]["customer_code"]
        assert field["required"] is True and "default" not in field
        reply = c.post("/api.php/data/Contact", token=token, json={"data": {"last_name": "x"}})
        assert reply.status_code == 400 and reply.json()["message"] == "Field 'customer_code' is required"
    with Simulator("hidden-required-field", tls=False) as sim:
        c = client_for(sim)
        token = c.token()
        assert "region" not in c.get("/api.php/meta/fields/Lead", token=token).json()["fields"]
        reply = c.post("/api.php/data/Lead", token=token, json={"data": {"last_name": "x"}})
        assert reply.status_code == 400 and reply.json()["message"] == "Field 'region' is required"
        assert c.post("/api.php/data/Lead", token=token, json={"data": {"last_name": "x", "region": "North"}}).ok


@pytest.mark.parametrize("model", RECORD_MODEL_NAMES)
def test_every_record_model_is_seeded(client, admin_token, model):
    body = client.get(f"/api.php/data/{model}", token=admin_token, params={"limit": 200}).json()
    assert body["total_results"] >= 20
    # without fields[] only the default set: Contact's is documented (1crm-api.md §3), the others' assumed
    documented = {"name", "first_name", "id", "last_name", "salutation", "_display"}
    assert set(body["records"][0]) == (documented if model == "Contact" else {"id", "name", "date_modified"})


def test_unknown_model_unknown_id_unknown_path(client, admin_token):
    reply = client.get("/api.php/data/Acount", token=admin_token)
    assert reply.status_code == 404 and reply.json() == {"message": "Model Acount not found"}
    reply = client.get("/api.php/data/Contact/00000000-0000-0000-0000-000000000000", token=admin_token)
    assert reply.status_code == 404 and reply.headers["Content-Type"].startswith("application/json")
    reply = client.get("/api.php/no/such/endpoint", token=admin_token)
    assert reply.status_code == 404 and "message" in reply.json()
    reply = client.request("PUT", "/api.php/data/Contact", token=admin_token, json={"data": {}})
    assert reply.status_code == 405 and reply.json()["error"] == "method_not_allowed"


# ----- CRUD, ownership, audit -----------------------------------------------------------------------


def test_crud_sets_ownership_to_the_authenticated_user(client, admin_token, riva_id):
    alice_id = client.user_id("alice.archer")
    created = client.post("/api.php/data/Contact", token=admin_token, json={"data": {
        "first_name": "Probe", "last_name": "Readiness", "created_by": alice_id, "modified_user_id": alice_id,
        "assigned_user_id": alice_id, "id": "forged-id", "date_entered": "2000-01-01 00:00:00"}})
    assert created.status_code == 200
    record_id = created.json()["id"]
    assert len(record_id) == 36 and record_id != "forged-id"

    record = client.get(f"/api.php/data/Contact/{record_id}", token=admin_token).json()["record"]
    assert record["assigned_user_id"] == riva_id and record["assigned_user"] == CONNECTION_USER
    assert record["created_by"] == riva_id and record["created_by_user"] == CONNECTION_USER
    assert record["modified_user_id"] == riva_id and record["modified_user"] == CONNECTION_USER
    assert record["deleted"] == "0" and record["name"] == "Probe Readiness"
    assert DATETIME.match(record["date_entered"]) and record["date_entered"] != "2000-01-01 00:00:00"
    some = client.get(f"/api.php/data/Contact/{record_id}", token=admin_token, params={"fields[]": "last_name"})
    assert some.json() == {"record": {"id": record_id, "last_name": "Readiness"}}

    updated = client.patch(f"/api.php/data/Contact/{record_id}", token=admin_token,
                           json={"data": {"title": "Probe title", "assigned_user_id": alice_id}})
    assert updated.status_code == 200 and updated.json() == {"result": True}
    record = client.get(f"/api.php/data/Contact/{record_id}", token=admin_token).json()["record"]
    assert record["title"] == "Probe title" and record["assigned_user_id"] == riva_id  # not editable (§5)
    assert record["modified_user_id"] == riva_id and record["created_by"] == riva_id

    audit = client.get(f"/api.php/audit/Contact/{record_id}", token=admin_token).json()
    assert set(audit) == {"records", "total_results"}
    rows = audit["records"]
    assert {"created_by", "created_by_user", "date_created", "field_name", "before_value_string",
            "after_value_string"} <= set(rows[0])
    changes = {(r["field_name"], r["before_value_string"], r["after_value_string"]) for r in rows}
    assert ("last_name", None, "Readiness") in changes
    assert ("title", None, "Probe title") in changes
    assert [change for change in changes if change[0] == "assigned_user_id"] == [("assigned_user_id", None, riva_id)]
    assert {r["created_by_user"] for r in rows} == {CONNECTION_USER}

    deleted = client.delete(f"/api.php/data/Contact/{record_id}", token=admin_token)
    assert deleted.status_code == 200 and deleted.json() == {"result": True}
    assert client.get(f"/api.php/data/Contact/{record_id}", token=admin_token).status_code == 404
    assert client.delete(f"/api.php/data/Contact/{record_id}", token=admin_token).status_code == 404
    listed = client.get("/api.php/data/Contact", token=admin_token, params={"limit": 200}).json()["records"]
    assert record_id not in {r["id"] for r in listed}
    # the audit trail survives the (soft) delete
    rows = client.get(f"/api.php/audit/Contact/{record_id}", token=admin_token).json()["records"]
    assert ("deleted", "0", "1") in {(r["field_name"], r["before_value_string"], r["after_value_string"]) for r in rows}


def test_create_validation(client, admin_token):
    reply = client.post("/api.php/data/Contact", token=admin_token, json={"data": {"first_name": "No last name"}})
    assert reply.status_code == 400 and "last_name" in reply.json()["message"]
    reply = client.post("/api.php/data/Contact", token=admin_token, json={"last_name": "not wrapped in data"})
    assert reply.status_code == 400


def test_method_override(client, admin_token):
    record_id = client.post("/api.php/data/Task", token=admin_token, json={"data": {"name": "Override probe"}}).json()["id"]
    reply = client.post(f"/api.php/data/Task/{record_id}", token=admin_token,
                        headers={"X-HTTP-Method-Override": "PATCH"}, json={"data": {"status": "Completed"}})
    assert reply.status_code == 200 and reply.json() == {"result": True}
    assert client.get(f"/api.php/data/Task/{record_id}", token=admin_token).json()["record"]["status"] == "Completed"
    reply = client.post(f"/api.php/data/Task/{record_id}", token=admin_token,
                        headers={"X-HTTP-Method-Override": "PUT"}, json={"data": {"priority": "P0"}})
    assert reply.status_code == 200
    reply = client.post(f"/api.php/data/Task/{record_id}", token=admin_token, headers={"X-HTTP-Method-Override": "DELETE"})
    assert reply.status_code == 200 and reply.json() == {"result": True}
    assert client.get(f"/api.php/data/Task/{record_id}", token=admin_token).status_code == 404


def test_read_only_models_for_the_api(client, admin_token):
    alice_id = client.user_id("alice.archer")
    reply = client.patch(f"/api.php/data/User/{alice_id}", token=admin_token, json={"data": {"status": "Inactive"}})
    assert reply.status_code == 405
    user = client.get(f"/api.php/data/User/{alice_id}", token=admin_token).json()["record"]
    assert user["status"] == "Active"
    assert {"user_name", "email1", "email2", "status", "is_admin", "portal_only"} <= set(user)
    assert "is_group" not in user and "is_group" not in client.get("/api.php/meta/fields/User",
                                                                   token=admin_token).json()["fields"]
    assert not {"password", "user_password", "user_hash"} & set(user)  # never a password or its hash


# ----- roles (administrators) ----------------------------------------------------------------------------


def test_role_endpoints(client, admin_token):
    roles = client.get("/api.php/data/ACLRole", token=admin_token).json()
    by_name = {r["name"]: r["id"] for r in roles["records"]}
    assert {"Sales", "Support", "Read only"} <= set(by_name)

    alice_id = client.user_id("alice.archer")
    mine = client.get(f"/api.php/data/User/{alice_id}/aclroles", token=admin_token).json()
    assert mine == {"records": [{"id": by_name["Sales"], "name": "Sales"}], "total_results": 1}

    holders = client.get(f"/api.php/data/ACLRole/{by_name['Sales']}/users", token=admin_token,
                         params={"limit": 200, "fields[]": "user_name"}).json()
    assert {"id": alice_id, "user_name": "alice.archer"} in holders["records"]
    assert set(holders["records"][0]) == {"id", "user_name"}

    actions = client.get(f"/api.php/data/ACLRole/{by_name['Sales']}/actions", token=admin_token,
                         params={"limit": 200, "fields[]": ["category", "acltype", "name", "aclaccess"]}).json()
    assert actions["total_results"] == 11 * 7
    rights = {(a["category"], a["name"]): a["aclaccess"] for a in actions["records"]}
    assert set(actions["records"][0]) == {"id", "category", "acltype", "name", "aclaccess"}
    assert {a["acltype"] for a in actions["records"]} == {"module"}
    assert rights[("Contacts", "access")] == 89 and rights[("Cases", "export")] == 90
    assert {c for c, _ in rights} == {"Contacts", "Leads", "Accounts", "Meetings", "Calls", "Tasks", "Notes",
                                      "Emails", "Opportunities", "Cases", "Project"}
    read_only = client.get(f"/api.php/data/ACLRole/{by_name['Read only']}/actions", token=admin_token,
                           params={"limit": 200, "fields[0]": "category", "fields[1]": "name",
                                   "fields[2]": "aclaccess"}).json()["records"]
    ro = {(a["category"], a["name"]): a["aclaccess"] for a in read_only}
    assert ro[("Meetings", "view")] == 90 and ro[("Meetings", "edit")] == -99 and ro[("Meetings", "import")] == -99
    reply = client.get(f"/api.php/data/Contact/{alice_id}/nolink", token=admin_token)
    assert reply.status_code == 404


# ----- stats ---------------------------------------------------------------------------------------------


def test_stats_count_data_writes_only(client, healthy, admin_token):
    stats = healthy.stats
    before = stats.data_writes
    client.grant()  # sign-in is not a data write
    client.get("/api.php/data/Call", token=admin_token)
    assert stats.data_writes == before
    record_id = client.post("/api.php/data/Call", token=admin_token,
                            json={"data": {"name": "Stats probe", "date_start": "2030-01-01 10:00:00"}}).json()["id"]
    client.patch(f"/api.php/data/Call/{record_id}", token=admin_token, json={"data": {"duration": "15"}})
    client.post(f"/api.php/data/Call/{record_id}", token=admin_token, headers={"X-HTTP-Method-Override": "DELETE"})
    client.delete(f"/api.php/data/Call/{record_id}", token=admin_token)  # refused (404), still attempted
    assert stats.data_writes == before + 4
    assert stats.requests[-1] == ("DELETE", f"/api.php/data/Call/{record_id}", "")
    assert stats.count("GET", "/api.php/data/Call") >= 1
    assert stats.count(path_prefix="/api.php/auth/") >= 1
    client.get("/api.php/data/Call", token=admin_token, params={"limit": 5})
    assert stats.requests[-1] == ("GET", "/api.php/data/Call", "limit=5")
