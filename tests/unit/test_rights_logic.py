"""R4.3 and the users' facts of R3.x on hand-built replies: the access levels of 1CRM, the Default Role,
roles through teams, disagreeing roles and fail-safe reading (1crm-api.md §3, §6, §7). No server."""

from __future__ import annotations

import pytest

from readiness import connection_user
from readiness.errors import AccessDenied, NotFound, ServerError, UnexpectedReply
from readiness.roles import (
    ALLOWS,
    DENIES,
    DEFAULT_ROLE_ID,
    MODULES,
    SOME,
    UNKNOWN,
    Role,
    RoleBook,
    Team,
    grant_of_level,
    judge,
    read_rights,
)
from readiness.users import USER_FIELDS, CrmUser, load_directory

ACTIONS = ("access", "view", "list", "edit", "delete", "import", "export")


def person(name="ann", admin="0", uid=None, **record):
    return CrmUser.from_record({"id": uid or name, "user_name": name, "email1": f"{name}@x.org", "status": "Active",
                                "is_admin": admin, "portal_only": "0", **record})


def rights(level=90, access=89, **modules):
    """Every module with every action at `level`, then per-module changes (None: the role does not list it)."""
    result = {m: {a: (access if a == "access" else level) for a in ACTIONS} for m in MODULES.values()}
    for module, changes in modules.items():
        for action, value in changes.items():
            if value is None:
                result[module].pop(action)
            else:
                result[module][action] = value
    return result


def role(name, members=("ann",), **modules):
    return Role(name, name, rights(**modules), set(members))


def book(*roles, default=None, teams=(), gaps=(), api=None):
    default = default or Role(DEFAULT_ROLE_ID, "Default Role", rights())
    return RoleBook({r.id: r for r in (default, *roles)}, list(teams), gaps=list(gaps), api=api)


def roleless(name, *roles, **options):
    """A book whose replies confirm that `name` holds no role: its own list of roles answers empty, and a role
    and a team list ann as a member."""
    seen = Team("t0", "Sales team", [], {"ann"})
    return book(role("Sales"), *roles, teams=[seen], api=FakeCrm(**{f"User__{name}__aclroles": []}), **options)


def verdict(outcome):
    if not outcome.verifiable:
        return "not verifiable"
    return "passed" if outcome.passed else "advisory" if outcome.advisory else "failed"


# -- the levels of §7 ----------------------------------------------------------------------------


@pytest.mark.parametrize("action, level, kind", [
    ("access", 89, ALLOWS), ("access", 90, ALLOWS), ("access", 88, ALLOWS), ("access", 99, DENIES),
    ("access", 80, DENIES), ("access", 75, DENIES), ("access", 1, DENIES), ("access", -98, DENIES),
    ("access", -99, DENIES), ("access", 95, UNKNOWN),
    ("edit", 90, ALLOWS), ("edit", 80, SOME), ("edit", 78, SOME), ("edit", 75, SOME), ("edit", 99, DENIES),
    ("edit", -98, DENIES), ("edit", -99, DENIES), ("edit", 89, UNKNOWN), ("edit", 1, UNKNOWN), ("edit", 0, UNKNOWN),
    ("import", 90, ALLOWS), ("import", 99, DENIES), ("import", -99, DENIES), ("import", 75, UNKNOWN),
])
def test_what_each_level_grants_an_ordinary_user(action, level, kind):
    assert grant_of_level(action, level) == kind


@pytest.mark.parametrize("changes, expected, words", [
    ({"Calls": {"access": 99}}, "failed",
     "target user ann cannot use the Calls module: it is closed to ordinary users by role 'R' (access 99, admin only)"),
    ({"Calls": {"access": 80}}, "failed", "cannot use the Calls module: it is closed to ordinary users"),
    ({"Calls": {"access": -98}}, "failed", "cannot use the Calls module: it is disabled by role 'R'"),
    ({"Calls": {"access": 88}}, "passed", "role 'R' allows every right"),
    ({"Calls": {"edit": 99}}, "failed", "cannot create or edit Call records: role 'R' denies edit (99, admin only)"),
    ({"Calls": {"edit": 80}}, "advisory", "may create or edit only its own team's Call records (role 'R')"),
    ({"Calls": {"edit": 78}}, "advisory", "only its own role's Call records"),
    ({"Calls": {"delete": 75}}, "advisory", "may delete only its own Call records"),
    ({"Calls": {"import": 75}}, "not verifiable", "the level 75, which is not a known level for it"),
    ({"Calls": {"export": 1}}, "not verifiable", "Calls export the level 1"),
])
def test_module_and_action_levels(changes, expected, words):
    outcome = judge("ann@x.org", person(), book(role("R", **changes)), ("Call", "Contact"))
    assert verdict(outcome) == expected, outcome.message
    assert words in outcome.message


def test_owner_only_is_advisory_and_says_records_of_others_will_fail():
    outcome = judge("ann@x.org", person(), book(role("R", Accounts={"edit": 75})), ("Account",))
    assert outcome.advisory and "records owned by others will fail to sync" in outcome.message


# -- the Default Role ----------------------------------------------------------------------------


def test_an_unlisted_action_falls_back_to_the_default_role_not_to_unrestricted():
    sales = role("Sales", Meetings={"delete": None})
    denying = Role(DEFAULT_ROLE_ID, "Default Role", rights(Meetings={"delete": -99}))
    outcome = judge("ann@x.org", person(), book(sales, default=denying), ("Meeting",))
    assert verdict(outcome) == "failed"
    assert ("cannot delete Meeting records: the Default Role (role 'Sales' does not list delete) denies delete"
            in outcome.message)
    assert verdict(judge("ann@x.org", person(), book(sales), ("Meeting",))) == "passed"  # the Default Role allows


def test_an_unreadable_default_role_leaves_unlisted_actions_not_verifiable():
    sales = role("Sales", Meetings={"delete": None})
    broken = Role(DEFAULT_ROLE_ID, "Default Role", problem="rights of the Default Role not readable through the API "
                                                           "(HTTP 404: not found)")
    outcome = judge("ann@x.org", person(), book(sales, default=broken), ("Meeting",))
    assert verdict(outcome) == "not verifiable"
    assert "rights of the Default Role not readable through the API (HTTP 404: not found)" in outcome.message
    # what the role lists itself is still judged
    assert verdict(judge("ann@x.org", person(), book(role("Sales"), default=broken), ("Meeting",))) == "passed"


def test_an_action_listed_neither_by_the_role_nor_by_the_default_role_is_not_verifiable():
    sales = role("Sales", Project={"export": None})
    silent = Role(DEFAULT_ROLE_ID, "Default Role", rights(Project={"export": None}))
    outcome = judge("ann@x.org", person(), book(sales, default=silent), ("Project",))
    assert verdict(outcome) == "not verifiable"
    assert "neither role 'Sales' nor the Default Role lists Project export: the module defaults apply" in outcome.message


def test_modules_closed_by_a_role_read_as_one_sentence():
    outcome = judge("ann@x.org", person(), book(role("R", Calls={"access": -98}, Meetings={"access": -98})),
                    ("Call", "Meeting", "Contact"))
    assert outcome.message.startswith("target user ann cannot use the Calls, Meetings modules: they are disabled by "
                                      "role 'R' (access -98, disabled)"), outcome.message


def test_a_user_without_a_role_gets_the_default_role():
    nobody = person("bob")
    assert verdict(judge("bob@x.org", nobody, roleless("bob"), ("Call",))) == "passed"
    strict = Role(DEFAULT_ROLE_ID, "Default Role", rights(Calls={"access": -98}))
    outcome = judge("bob@x.org", nobody, roleless("bob", default=strict), ("Call",))
    assert verdict(outcome) == "failed"
    assert ("target user bob cannot use the Calls module: it is disabled by the Default Role (the user holds no "
            "role)") in outcome.message


# -- teams ---------------------------------------------------------------------------------------


def test_a_denying_role_held_only_through_a_team_counts():
    read_only = role("Read only", members=(), Contacts={"edit": -99, "delete": -99})
    team = Team("t1", "Contractors", [read_only.id], {"tina"})
    outcome = judge("tina@x.org", person("tina"), book(read_only, teams=[team]), ("Contact",))
    assert verdict(outcome) == "failed"
    assert "cannot create or edit Contact records: role 'Read only' (through team 'Contractors') denies edit" \
        in outcome.message
    assert verdict(judge("tina@x.org", person("tina"), roleless("tina", read_only), ("Contact",))) == "passed"  # no team


def test_teams_that_cannot_be_read_leave_every_user_not_verifiable():
    gap = "roles held through teams are not readable through the API (SecurityGroup: HTTP 404: gone)"
    outcome = judge("ann@x.org", person(), book(role("Sales"), gaps=[gap]), ("Contact",))
    assert verdict(outcome) == "not verifiable" and gap in outcome.message
    assert verdict(judge("adm@x.org", person("adm", admin="1"), book(gaps=[gap]), ("Contact",))) == "passed"


# -- disagreeing roles ---------------------------------------------------------------------------


def test_disagreeing_roles_report_both_readings_and_never_pass_on_one():
    sales, strict = role("Sales"), role("Strict", Meetings={"delete": -99})
    outcome = judge("ann@x.org", person(), book(sales, strict), ("Meeting",), probe_user=True)
    assert verdict(outcome) == "not verifiable"
    assert ("role 'Sales', role 'Strict' disagree on delete Meeting: where the most restrictive role wins it is "
            "denied, where the highest access wins it is allowed") in outcome.message
    assert "1CRM does not document which rule applies" in outcome.message
    assert outcome.message.endswith("the probes of R4.4 decide for this probe user")
    other = judge("ann@x.org", person(), book(sales, strict), ("Meeting",))
    assert "make this target a probe user" in other.message


def test_roles_that_all_deny_fail_and_allow_plus_some_is_advisory():
    a, b = role("A", Meetings={"delete": -99}), role("B", Meetings={"delete": 99})
    outcome = judge("ann@x.org", person(), book(a, b), ("Meeting",))
    assert verdict(outcome) == "failed"
    assert "cannot delete Meeting records: role 'A', role 'B' deny delete (-99, none, 99, admin only)" in outcome.message
    mixed = judge("ann@x.org", person(), book(role("A"), role("B", Meetings={"delete": 75})), ("Meeting",))
    assert verdict(mixed) == "advisory" and "where the most restrictive role wins" in mixed.message


def test_a_denying_role_with_an_unreadable_one_is_not_verifiable():
    broken = Role("x", "Broken", members={"ann"}, problem="rights of role 'Broken' not readable through the API (HTTP "
                                                          "403: Access denied)")
    outcome = judge("ann@x.org", person(), book(role("A", Meetings={"delete": -99}), broken), ("Meeting",))
    assert verdict(outcome) == "not verifiable"
    assert "rights of role 'Broken' not readable" in outcome.message


def test_administrators_bypass_roles_but_a_missing_is_admin_is_not_assumed():
    strict = role("Strict", Calls={"access": -98}, members=("ann", "adm"))
    assert judge("adm@x.org", person("adm", admin="1"), book(strict), ("Call",)).passed
    unsure = CrmUser.from_record({"id": "ann", "user_name": "ann", "status": "Active", "portal_only": "0"})
    outcome = judge("ann@x.org", unsure, book(strict), ("Call",))
    assert verdict(outcome) == "not verifiable" and "no is_admin" in outcome.message


# -- reading, fail safe --------------------------------------------------------------------------


SALES_ROWS = [{"id": f"a{i}", "category": module, "acltype": "module", "name": action,
               "aclaccess": "89" if action == "access" else "90"}
              for i, (module, action) in enumerate((m, a) for m in MODULES.values() for a in ACTIONS)]


class FakeCrm:
    """Answers lists and related lists from a dict of path -> records (or an exception); records each call."""

    def __init__(self, **changes):
        self.replies = {
            "ACLRole": [{"id": "r1", "name": "Sales"}, {"id": DEFAULT_ROLE_ID, "name": "Default Role"}],
            "ACLRole/r1/users": [{"id": "ann", "user_name": "ann"}],
            "ACLRole/r1/actions": SALES_ROWS,
            f"ACLRole/{DEFAULT_ROLE_ID}/users": [],
            f"ACLRole/{DEFAULT_ROLE_ID}/actions": SALES_ROWS,
            "SecurityGroup": [{"id": "t1", "name": "Sales team"}],
            "SecurityGroup/t1/aclroles": [{"id": "r1", "name": "Sales"}],
            "SecurityGroup/t1/users": [{"id": "ann", "user_name": "ann"}],
        }
        self.replies.update({k.replace("__", "/"): v for k, v in changes.items()})
        self.calls = []

    def list(self, path, *, fields=()):
        self.calls.append((path, tuple(fields)))
        reply = self.replies[path]
        if isinstance(reply, Exception):
            raise reply
        return iter(reply)

    def related(self, model, record_id, link, *, fields=()):
        return self.list(f"{model}/{record_id}/{link}", fields=fields)


def r43(api):
    return judge("ann@x.org", person(), read_rights(api), ("Contact", "Meeting"), probe_user=True)


def test_rights_read_from_whole_replies_pass_and_every_list_names_its_fields():
    api = FakeCrm()
    assert verdict(r43(api)) == "passed"
    assert all(fields for _, fields in api.calls), api.calls
    assert dict(api.calls)["ACLRole/r1/actions"] == ("id", "category", "acltype", "name", "aclaccess")
    assert len(api.calls) == 1 + 2 * 2 + 1 + 2  # roles, members and actions per role, teams, roles and members per team


@pytest.mark.parametrize("changes, evidence", [
    ({"ACLRole__r1__actions": []}, 'the reply lists no actions: {"records": []}'),
    ({"ACLRole__r1__actions": [{**row, "aclaccess": None} for row in SALES_ROWS]}, "a record without aclaccess"),
    ({"ACLRole__r1__actions": [{"id": "a1", "name": "delete"}]}, "a record without category, acltype, aclaccess"),
    ({"ACLRole__r1__actions": ["delete"]}, 'a record without category, acltype, name, aclaccess: "delete"'),
    ({"ACLRole__r1__actions": [{**SALES_ROWS[0], "aclaccess": "all"}]}, "an action whose level is not a number"),
    ({"ACLRole__r1__actions": AccessDenied("Access denied", status=403)}, "HTTP 403: Access denied"),
    ({"ACLRole__r1__actions": NotFound("ACLRole/r1/actions: not found", status=404)}, "HTTP 404"),
    ({"ACLRole__r1__actions": UnexpectedReply("unexpected reply from server: HTTP 200 (text/html)", status=200)},
     "HTTP 200: unexpected reply"),
    ({"ACLRole__r1__actions": [{**row, "acltype": "field"} for row in SALES_ROWS]}, "lists no module rights"),
])
def test_an_empty_partial_refused_or_odd_rights_reply_is_not_verifiable_with_the_reply_as_evidence(changes, evidence):
    outcome = r43(FakeCrm(**changes))
    assert verdict(outcome) == "not verifiable", outcome.message
    assert "rights of role 'Sales' not readable through the API (" in outcome.message
    assert evidence in outcome.message
    assert "in 1CRM, Admin → Roles → Sales, check Contacts, Leads," in outcome.message
    assert "for Access, View, List, Edit, Delete, Import, Export" in outcome.message
    assert outcome.message.endswith("the probes of R4.4 decide for this probe user")


@pytest.mark.parametrize("changes, words", [
    ({"SecurityGroup": NotFound("SecurityGroup: not found", status=404)}, "roles held through teams are not readable"),
    ({"SecurityGroup__t1__users": AccessDenied("Access denied", status=403)}, "team 'Sales team' are not readable"),
    ({"ACLRole__r1__users": [{"user_name": "ann"}]}, "the members of role 'Sales' are not readable"),
    ({"SecurityGroup__t1__aclroles": [{"id": "r9", "name": "Hidden"}]}, "the API does not list it among the roles"),
])
def test_members_or_teams_that_cannot_be_read_are_not_verifiable(changes, words):
    outcome = r43(FakeCrm(**changes))
    assert verdict(outcome) == "not verifiable", outcome.message
    assert words in outcome.message


@pytest.mark.parametrize("changes, why", [
    # the role and team lists of members answer empty, and so does the user's own list
    ({"ACLRole__r1__users": [], "SecurityGroup__t1__users": []}, "no role lists any member; no team lists any member"),
    # the listings of roles and teams themselves answer empty
    ({"ACLRole": [], "SecurityGroup": []}, "no role lists any member; no team lists any member"),
    ({"ACLRole__r1__users": [{"id": "bob"}], "SecurityGroup": []}, "(no team lists any member)"),
    ({"ACLRole__r1__users": [{"id": "bob"}], "SecurityGroup__t1__users": [{"id": "bob"}],
      "User__ann__aclroles": NotFound("User/ann/aclroles: not found", status=404)},
     "(its own list of roles is not readable (User/ann/aclroles: HTTP 404: User/ann/aclroles: not found))"),
])
def test_no_role_read_only_from_empty_replies_is_not_verifiable_never_the_default_role(changes, why):
    outcome = r43(FakeCrm(**{"User__ann__aclroles": [], **changes}))
    assert verdict(outcome) == "not verifiable", outcome.message
    assert "the API shows no role for ann, which the replies cannot confirm (" in outcome.message
    assert why in outcome.message
    assert "Admin → User Management → ann, check its roles and teams; with none, the Default Role applies: in 1CRM, " \
           "Admin → Roles → Default Role, check Contacts" in outcome.message
    assert "the Default Role (the user holds no role)" not in outcome.message


def test_no_role_the_replies_confirm_gets_the_default_role_asked_once_per_user():
    api = FakeCrm(ACLRole__r1__users=[{"id": "bob"}], SecurityGroup__t1__users=[{"id": "bob"}], User__ann__aclroles=[])
    rights_book = read_rights(api)
    outcome = judge("ann@x.org", person(), rights_book, ("Contact", "Meeting"))
    assert verdict(outcome) == "passed", outcome.message
    assert "the Default Role (the user holds no role) allows every right" in outcome.message
    rights_book.held_by(person())  # the per-target table asks too
    assert [c for c in api.calls if c[0].startswith("User/")] == [("User/ann/aclroles", ("id", "name"))]


def test_the_users_own_list_names_roles_the_role_lists_did_not():
    empty = {"ACLRole__r1__users": [], "SecurityGroup__t1__users": []}
    outcome = r43(FakeCrm(**empty, User__ann__aclroles=[{"id": "r1", "name": "Sales"}]))
    assert verdict(outcome) == "passed" and "role 'Sales' allows every right" in outcome.message
    hidden = r43(FakeCrm(**empty, User__ann__aclroles=[{"id": "r9", "name": "Hidden"}]))
    assert verdict(hidden) == "not verifiable"
    assert "rights of role 'Hidden' (of ann) not readable: the API does not list it among the roles" in hidden.message


def test_a_default_role_the_listing_omits_is_read_by_its_known_id():
    api = FakeCrm(ACLRole=[{"id": "r1", "name": "Sales"}])
    assert verdict(r43(api)) == "passed"
    assert (f"ACLRole/{DEFAULT_ROLE_ID}/actions", ("id", "category", "acltype", "name", "aclaccess")) in api.calls
    missing = FakeCrm(ACLRole=[{"id": "r1", "name": "Sales"}],
                      **{f"ACLRole__{DEFAULT_ROLE_ID}__actions": NotFound("not found", status=404)})
    assert verdict(r43(missing)) == "passed"  # Sales lists everything: the Default Role is not needed


def test_roles_that_cannot_be_listed_are_one_problem_and_server_faults_stay_errors():
    assert "roles cannot be read (HTTP 404" in read_rights(FakeCrm(ACLRole=NotFound("gone", status=404))).problem
    with pytest.raises(ServerError):
        read_rights(FakeCrm(ACLRole__r1__actions=ServerError("server error HTTP 500", status=500)))


# -- the connection user and listing users (R3.1 to R3.3) ------------------------------------------


class UsersApi:
    def __init__(self, reply):
        self.reply, self.fields = reply, None

    def list(self, model, *, fields=()):
        self.fields = tuple(fields)
        if isinstance(self.reply, Exception):
            raise self.reply
        return iter(self.reply)


@pytest.mark.parametrize("error", [NotFound("data/User: not found", status=404),
                                   AccessDenied("[Users:list] Access denied", status=403)])
def test_a_refused_user_listing_fails_r33_clearly_and_r42_cannot_match(error):
    directory = load_directory(UsersApi(error))
    outcome = connection_user.sees_users(lambda: directory)
    assert not outcome.passed and outcome.verifiable
    assert outcome.message.startswith(f"the connection user cannot list users through the API (HTTP {error.status}")
    assert not directory.match("ann@x.org").outcome.verifiable


def test_users_are_listed_with_the_fields_matching_reads():
    api = UsersApi([{"id": "1", "user_name": "ann", "email1": "ann@x.org", "status": "Active", "portal_only": "0"}])
    assert load_directory(api).match("ann@x.org").outcome.passed and api.fields == USER_FIELDS


@pytest.mark.parametrize("record, expected, words", [
    ({"status": "Info Only"}, "failed", "is an Info Only user (cannot sign in)"),
    ({"status": None}, "not verifiable", "has no status in the server's reply"),
    ({"status": "Suspended"}, "not verifiable", "has the status 'Suspended'"),
    ({}, "passed", "(the server does not expose group users: check by hand that it is not a group mailbox)"),
    ({"is_group": "0"}, "passed", "neither a group nor a portal-only user"),
    ({"is_group": "1"}, "failed", "is a group user"),
])
def test_r31_reads_the_status_and_claims_a_group_check_only_where_it_can_fire(record, expected, words):
    base = {"id": "1", "user_name": "riva_svc", "status": "Active", "is_admin": "1", "portal_only": "0"}
    fields = {k: v for k, v in {**base, **record}.items() if v is not None}
    account = connection_user.Account(CrmUser.from_record(fields))
    outcome = connection_user.active_ordinary_user(account)
    assert verdict(outcome) == expected, outcome.message
    assert words in outcome.message


def test_r32_without_is_admin_is_not_verifiable():
    account = connection_user.Account(CrmUser.from_record({"id": "1", "user_name": "riva_svc", "status": "Active"}))
    assert verdict(connection_user.administrator(account)) == "not verifiable"


def test_r32_fix_says_administrator_is_a_flag_of_the_user_account_not_a_role():
    outcome = connection_user.administrator(connection_user.Account(person("riva_svc", admin="0")))
    assert verdict(outcome) == "failed"
    assert outcome.message == ("the connection user riva_svc is not an administrator, as Riva's impersonation needs — "
                               "in 1CRM, Admin → User Management, open riva_svc, Edit, tick Administrator and save (a "
                               "flag of the user account, is_admin, not a role under Admin → Roles)"), outcome.message


def test_r34_cannot_tell_a_dedicated_account_without_the_user_listing():
    account = connection_user.Account(person("riva_svc", admin="1"))
    directory = load_directory(UsersApi(AccessDenied("[Users:list] Access denied", status=403)))
    outcome = connection_user.dedicated(account, directory, ())
    assert verdict(outcome) == "not verifiable" and "see R3.3" in outcome.message
