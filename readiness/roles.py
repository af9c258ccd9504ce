"""Role rights of the target users (R4.3): every role and team read once, each target judged in memory.

What 1crm-api.md §7 says [source], and how this module fails safe where it is silent:
- Users hold roles directly (ACLRole link `users`) and through teams (SecurityGroup links `aclroles`
  and its members). Both count.
- A role's rights are rows {category, acltype, name, aclaccess}. Module access: 99 (admin only) or a
  level below 88 closes the module to an ordinary user. Actions: only 90 allows every record; 80, 78
  and 75 allow some (own team, own role, own records); 99 and negative levels allow none. Import has
  all / admin only / none.
- An action a role does not list falls back to the Default Role, then to module defaults, which the
  API does not show: never "unrestricted".
- A user no role or team lists gets the Default Role only where the replies confirm that the user holds
  none: the user's own list of roles answers, and the role and team lists show members at all.
- How several roles combine is not documented: both readings (most restrictive wins, highest access
  wins) are judged, and a finding passes only where both allow.
- Anything the replies leave open (refused, empty, partial or odd replies) is "not verifiable",
  with the reply as evidence and what to check by hand; the probes of R4.4 decide for probe users.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from .client import CrmApi
from .errors import AuthenticationFailed, CrmError, CrmUnreachable, ServerError
from .outcome import Outcome
from .users import CrmUser

MODULES = {"Contact": "Contacts", "Lead": "Leads", "Account": "Accounts", "Meeting": "Meetings", "Call": "Calls",
           "Task": "Tasks", "Note": "Notes", "Email": "Emails", "Opportunity": "Opportunities", "aCase": "Cases",
           "Project": "Project"}
# What Riva does with each right: edit covers create and update.
NEEDED = {"view": "read", "list": "list", "edit": "create or edit", "delete": "delete", "import": "import",
          "export": "export"}
DEFAULT_ROLE_ID = "default_-role-0000-0000-000000000001"  # [source] info@hand's editable Default Role
ROLE_FIELDS = ("id", "name")
MEMBER_FIELDS = ("id", "user_name")
ACTION_FIELDS = ("id", "category", "acltype", "name", "aclaccess")
TEAM_FIELDS = ("id", "name")
TEAM_MODEL = "SecurityGroup"  # [source] teams are SecurityGroup records; their REST exposure is [assumed] (§7)
TEAM_MEMBERS = "users"  # [assumed] the SecurityGroup link to its members (relationship securitygroups_users)

# [source] the access levels of info@hand's ACL (1crm-api.md §7)
ADMIN_ONLY, ALL, ENABLED, LIMITED, OWN_TEAM, OWN_ROLE, OWNER, NORMAL, DISABLED, NONE = \
    99, 90, 89, 88, 80, 78, 75, 1, -98, -99
LEVEL_NAMES = {ADMIN_ONLY: "admin only", ALL: "all", ENABLED: "enabled", LIMITED: "limited", OWN_TEAM: "own team",
               OWN_ROLE: "own role", OWNER: "owner only", NORMAL: "normal", DISABLED: "disabled", NONE: "none"}
SOME_RECORDS = {OWN_TEAM: "its own team's", OWN_ROLE: "its own role's", OWNER: "its own"}

# What a level grants an ordinary user; a reading of several roles is one of these too.
ALLOWS, SOME, DENIES, UNKNOWN = "allows", "some", "denies", "unknown"
EXCERPT = 160
GAP_ID = "?"  # stands for roles a user may hold that the replies did not show


def describe(level: int) -> str:
    return f"{level}, {LEVEL_NAMES[level]}" if level in LEVEL_NAMES else str(level)


def grant_of_level(action: str, level: int) -> str:
    """What one level grants an ordinary user for module access or for an action."""
    if action == "access":
        if level == ADMIN_ONLY or level < LIMITED:
            return DENIES
        return ALLOWS if level <= ALL else UNKNOWN
    if level == ALL:
        return ALLOWS
    if level == ADMIN_ONLY or level < 0:
        return DENIES
    if level in SOME_RECORDS and action != "import":  # import is all / admin only / none
        return SOME
    return UNKNOWN


@dataclass
class Role:
    id: str
    name: str
    rights: dict[str, dict[str, int]] = field(default_factory=dict)  # module -> action -> level
    members: set[str] = field(default_factory=set)  # user ids
    problem: str | None = None  # why its rights cannot be verified, with the reply as evidence

    def level(self, module: str, action: str) -> int | None:
        """The level the role lists, or None: it does not list it (the Default Role applies)."""
        return self.rights.get(module, {}).get(action)

    @property
    def label(self) -> str:
        if self.id == GAP_ID:
            return "a role the API did not show"
        return "the Default Role" if self.id == DEFAULT_ROLE_ID else f"role '{self.name}'"


@dataclass
class Team:
    id: str
    name: str
    role_ids: list[str] = field(default_factory=list)
    members: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Held:
    """A role a user holds, and how (directly, through a team, or by default)."""

    role: Role
    via: str = ""  # e.g. " (through team 'Contractors')"

    @property
    def label(self) -> str:
        return self.role.label + self.via


@dataclass
class RoleBook:
    """Every role and team, read once; who holds what is looked up in memory."""

    roles: dict[str, Role] = field(default_factory=dict)  # by id, the Default Role included
    teams: list[Team] = field(default_factory=list)
    problem: str | None = None  # the roles cannot be read at all
    gaps: list[str] = field(default_factory=list)  # what leaves any user's roles open (members, teams)
    api: CrmApi | None = field(default=None, repr=False)  # asks a user no list names for its own roles
    _roleless: dict[str, list[Held]] = field(default_factory=dict, init=False, repr=False)  # user id -> held

    @property
    def default(self) -> Role:
        return self.roles[DEFAULT_ROLE_ID]

    def held_by(self, user: CrmUser) -> list[Held]:
        held = {rid: "" for rid, role in self.roles.items() if user.id in role.members}
        for team in self.teams:
            if user.id in team.members:
                for rid in team.role_ids:
                    held.setdefault(rid, f" (through team '{team.name}')")
        result = [Held(self.roles[rid], via) for rid, via in held.items()]
        if not result:  # asked once per user: R4.3 and the per-target table both look
            if user.id not in self._roleless:
                self._roleless[user.id] = _without_role(self, user)
            result = list(self._roleless[user.id])
        if self.gaps:  # a role we could not see may be held as well
            result.append(Held(Role(GAP_ID, GAP_ID, problem="; ".join(self.gaps))))
        return result


# -- reading ---------------------------------------------------------------------------------------


def _excerpt(value) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= EXCERPT else text[:EXCERPT - 1] + "…"


def _refused(exc: CrmError) -> str:
    """A refusal as evidence: the status and a short excerpt of the reply."""
    status = f"HTTP {exc.status}" if exc.status else "no status"
    text = str(exc)
    return f"{status}: {text if len(text) <= EXCERPT else text[:EXCERPT - 1] + '…'}"


def _is_refusal(exc: CrmError) -> bool:
    """A reply that says no (403, 404, another 4xx, or not JSON); transport faults and 5xx stay errors."""
    return not isinstance(exc, (CrmUnreachable, ServerError, AuthenticationFailed))


def _records(api: CrmApi, path: tuple[str, ...], fields: tuple[str, ...], need: tuple[str, ...]):
    """(records, None) or (None, evidence): every record must be an object carrying the needed fields."""
    try:
        records = list(api.related(*path, fields=fields) if len(path) == 3 else api.list(path[0], fields=fields))
    except CrmError as exc:
        if not _is_refusal(exc):
            raise
        return None, _refused(exc)
    for record in records:
        if not isinstance(record, dict) or any(record.get(name) in (None, "") for name in need):
            missing = [n for n in need if not isinstance(record, dict) or record.get(n) in (None, "")]
            return None, f"a record without {', '.join(missing)}: {_excerpt(record)}"
    return records, None


def _unlisted(record: dict, whose: str) -> Role:
    """A role some list names but the ACLRole listing does not: its rights are unknown."""
    rid, name = str(record["id"]), str(record.get("name") or record["id"])
    return Role(rid, name, problem=f"rights of role '{name}' ({whose}) not readable: the API does not list it among "
                                   f"the roles: {_hand_check(name)}")


def _own_roles(api: CrmApi | None, user: CrmUser):
    """(records, None) or (None, evidence): the user's own list of roles (User link `aclroles` [source], §6)."""
    if api is None:
        return None, "not read"
    try:
        return _records(api, ("User", user.id, "aclroles"), ROLE_FIELDS, ("id",))
    except CrmError as exc:  # a fault leaves this one user open, never the per-target table in error
        return None, _refused(exc)


def _without_role(book: RoleBook, user: CrmUser) -> list[Held]:
    """What a user that no role or team lists holds. [assumed] No role: the Default Role (1crm-api.md §7); but an
    absence read only from empty replies is not verifiable: the user's own list of roles must answer, and the
    role and team lists must show members at all."""
    own, problem = _own_roles(book.api, user)
    if own:  # the user's own list names roles the role lists did not
        return [Held(book.roles.get(str(r["id"])) or _unlisted(r, f"of {user.user_name}")) for r in own]
    why = [f"its own list of roles is not readable (User/{user.id}/aclroles: {problem})"] if own is None else []
    why += [f"no {kind} lists any member" for kind, listed in (("role", book.roles.values()), ("team", book.teams))
            if not any(x.members for x in listed)]
    if not why:
        return [Held(book.default, " (the user holds no role)")]
    return [Held(Role(GAP_ID, GAP_ID, problem=(
        f"the API shows no role for {user.user_name}, which the replies cannot confirm ({'; '.join(why)}): in 1CRM, "
        f"Admin → User Management → {user.user_name}, check its roles and teams; with none, the Default Role "
        f"applies: {_hand_check('Default Role')}")))]


def _hand_check(role_name: str) -> str:
    modules = ", ".join(dict.fromkeys(MODULES.values()))
    return (f"in 1CRM, Admin → Roles → {role_name}, check {modules} for Access, View, List, Edit, Delete, Import, "
            "Export")


def _read_actions(api: CrmApi, role: Role) -> None:
    # [assumed] the path: ACLRole's link `actions` is named in the model, its relationship is not defined (§7)
    rows, problem = _records(api, ("ACLRole", role.id, "actions"), ACTION_FIELDS,
                             ("category", "acltype", "name", "aclaccess"))
    if rows is not None and not rows:
        problem = "the reply lists no actions: {\"records\": []}"
    for row in rows or ():
        try:
            level = int(str(row["aclaccess"]).strip())
        except ValueError:
            problem = f"an action whose level is not a number: {_excerpt(row)}"
            break
        if row["acltype"] == "module":
            role.rights.setdefault(str(row["category"]), {})[str(row["name"])] = level
    if problem is None and rows and not role.rights:
        problem = f"the reply lists no module rights: {_excerpt(rows[:2])}"
    if problem:
        role.rights = {}
        role.problem = f"rights of {role.label} not readable through the API ({problem}): {_hand_check(role.name)}"


def read_rights(api: CrmApi) -> RoleBook:
    """Every role with its members and rights, every team with its roles and members: 1 + 2 listings per
    role and per team, never per user (only a user no list names is asked for its own roles, later)."""
    book = RoleBook(api=api)
    listing, problem = _records(api, ("ACLRole",), ROLE_FIELDS, ("id",))
    if listing is None:
        book.problem = f"roles cannot be read ({problem})"
        return book
    for record in listing:
        role = Role(str(record["id"]), str(record.get("name") or record["id"]))
        book.roles[role.id] = role
        members, problem = _records(api, ("ACLRole", role.id, "users"), MEMBER_FIELDS, ("id",))  # [source] link
        if members is None:
            book.gaps.append(f"the members of {role.label} are not readable through the API ({problem}): in 1CRM, "
                             f"Admin → Roles → {role.name}, check which users hold it")
        role.members = {str(m["id"]) for m in members or ()}
        _read_actions(api, role)
    if DEFAULT_ROLE_ID not in book.roles:  # not listed: its id is known, so its rights may still be readable
        book.roles[DEFAULT_ROLE_ID] = default = Role(DEFAULT_ROLE_ID, "Default Role")
        _read_actions(api, default)
    _read_teams(api, book)
    return book


def _read_teams(api: CrmApi, book: RoleBook) -> None:
    teams, problem = _records(api, (TEAM_MODEL,), TEAM_FIELDS, ("id",))
    if teams is None:
        book.gaps.append(f"roles held through teams are not readable through the API ({TEAM_MODEL}: {problem}): in "
                         "1CRM, check the user's teams and the roles of each team (Admin → Security Groups)")
        return
    for record in teams:
        team = Team(str(record["id"]), str(record.get("name") or record["id"]))
        roles, problem = _records(api, (TEAM_MODEL, team.id, "aclroles"), ROLE_FIELDS, ("id",))
        members, member_problem = _records(api, (TEAM_MODEL, team.id, TEAM_MEMBERS), MEMBER_FIELDS, ("id",))
        if roles is None or members is None:
            book.gaps.append(f"the roles and members of team '{team.name}' are not readable through the API "
                             f"({problem or member_problem}): in 1CRM, Admin → Security Groups → {team.name}, "
                             "check its roles and members")
            continue
        team.members = {str(m["id"]) for m in members}
        for role in roles:
            rid = str(role["id"])
            if rid not in book.roles:
                book.roles[rid] = _unlisted(role, f"of team '{team.name}'")
            team.role_ids.append(rid)
        book.teams.append(team)


# -- judging ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grant:
    """What one held role grants for one module action, and why."""

    held: Held
    kind: str
    level: int | None = None
    source: str = ""  # e.g. "the Default Role (role 'Sales' does not list delete)"
    reason: str = ""  # why it is unknown
    unlisted: str = ""  # e.g. "Project delete": listed neither by the role nor by the Default Role


def grant(held: Held, default: Role, module: str, action: str) -> Grant:
    role = held.role
    if role.problem:
        return Grant(held, UNKNOWN, reason=role.problem)
    level, source = role.level(module, action), held.label
    if level is None and role is not default:
        if default.problem:
            return Grant(held, UNKNOWN, reason=f"{default.problem} (what {held.label} does not list falls back to "
                                               "the Default Role)")
        level, source = default.level(module, action), f"the Default Role ({held.label} does not list {action})"
    if level is None:
        return Grant(held, UNKNOWN, unlisted=f"{module} {action}")
    kind = grant_of_level(action, level)
    reason = f"{source} gives {module} {action} the level {level}, which is not a known level for it" \
        if kind == UNKNOWN else ""
    return Grant(held, kind, level, source, reason)


def most_restrictive(kinds: list[str]) -> str:
    for kind in (DENIES, UNKNOWN, SOME):
        if kind in kinds:
            return kind
    return ALLOWS


def highest_access(kinds: list[str]) -> str:
    for kind in (ALLOWS, UNKNOWN, SOME):
        if kind in kinds:
            return kind
    return DENIES


MODULE_CLOSED = "cannot use the"  # + "Calls module: it is disabled by role 'R' (access ...)"


@dataclass
class _Findings:
    # (start, end) -> models or modules: "cannot delete" + "Meeting, Call" + "records: role 'R' denies delete"
    denied: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    partly: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    unknown: dict[str, None] = field(default_factory=dict)  # ordered set of reasons
    unlisted: dict[str, list[str]] = field(default_factory=dict)  # role -> "Project delete", ...
    disagree: dict[tuple[str, str, str], list[str]] = field(default_factory=dict)  # readings -> "delete Meeting"


def _who(grants: list[Grant]) -> str:
    return ", ".join(dict.fromkeys(g.source for g in grants))


def _weigh(found: _Findings, grants: list[Grant], model: str, action: str) -> str:
    """Adds what both readings of the user's roles give for one action; returns the agreed kind or UNKNOWN."""
    kinds = [g.kind for g in grants]
    low, high = most_restrictive(kinds), highest_access(kinds)
    module = MODULES[model]
    if low == high == DENIES:
        levels = ", ".join(dict.fromkeys(describe(g.level) for g in grants))
        if action == "access":
            word = "disabled" if all(g.level == DISABLED for g in grants) else "closed to ordinary users"
            found.denied.setdefault((MODULE_CLOSED, f"{word} by {_who(grants)} (access {levels})"), []).append(module)
        else:
            verb = "deny" if len(grants) > 1 else "denies"
            found.denied.setdefault((f"cannot {NEEDED[action]}", f"{_who(grants)} {verb} {action} ({levels})"),
                                    []).append(model)
        return DENIES
    if UNKNOWN in (low, high):
        for g in grants:
            if g.unlisted:
                found.unlisted.setdefault(g.held.label, []).append(g.unlisted)
            elif g.kind == UNKNOWN:
                found.unknown[g.reason] = None
    if low == high == SOME or {low, high} == {SOME, ALLOWS}:
        some = [g for g in grants if g.kind == SOME]
        whose = " / ".join(dict.fromkeys(SOME_RECORDS[g.level] for g in some))
        found.partly.setdefault((f"may {NEEDED[action]} only {whose}", f"{_who(some)}" + (
            "" if low == high else ", where the most restrictive role wins")), []).append(model)
    elif low != high and (DENIES in (low, high) or UNKNOWN not in (low, high)):  # one reading denies
        roles = ", ".join(dict.fromkeys(g.held.label for g in grants))
        doing = f"{module} access" if action == "access" else f"{NEEDED[action]} {model}"
        found.disagree.setdefault((roles, low, high), []).append(doing)
    return low if low == high else UNKNOWN


READING_WORDS = {ALLOWS: "allowed", SOME: "allowed for some records", DENIES: "denied", UNKNOWN: "unknown"}


def judge(address: str, user: CrmUser, book: RoleBook, datatypes: tuple[str, ...], *,
          probe_user: bool = False) -> Outcome:
    """Whether this target user's roles let Riva sync every datatype, in Riva's own terms."""
    if user.is_admin:  # [source] administrators bypass the rights (1crm-api.md §7)
        return Outcome.ok(f"{user.user_name} is an administrator: roles do not restrict it", subject=address)
    held = book.held_by(user)
    found = _Findings()
    for model in datatypes:
        module = MODULES[model]
        if _weigh(found, [grant(h, book.default, module, "access") for h in held], model, "access") == DENIES:
            continue  # the actions of a closed module do not matter
        for action in NEEDED:
            _weigh(found, [grant(h, book.default, module, action) for h in held], model, action)
    outcome = _verdict(address, user, held, datatypes, found, probe_user)
    if user.is_admin is None and not outcome.passed:
        return Outcome.not_verifiable(f"the server's reply does not say whether {user.user_name} is an administrator "
                                      f"(no is_admin); if it is not: {outcome.message}", subject=address)
    return outcome


def _phrases(grouped: dict[tuple[str, str], list[str]]) -> list[str]:
    """'cannot delete Meeting, Call records: role 'R' denies delete', or 'cannot use the Calls module: it is
    disabled by ...'; each follows 'target user alice' as a sentence."""
    phrases = []
    for (start, end), names in grouped.items():
        if start == MODULE_CLOSED:
            plural = len(names) > 1
            phrases.append(f"{start} {', '.join(names)} module{'s: they are' if plural else ': it is'} {end}")
        elif start.startswith("may"):
            phrases.append(f"{start} {', '.join(names)} records ({end})")
        else:
            phrases.append(f"{start} {', '.join(names)} records: {end}")
    return phrases


def _verdict(address: str, user: CrmUser, held: list[Held], datatypes: tuple[str, ...], found: _Findings,
             probe_user: bool) -> Outcome:
    open_ = list(found.unknown)
    for role, items in found.unlisted.items():
        open_.append(f"neither {role} nor the Default Role lists {', '.join(items)}: the module defaults apply, "
                     f"which the API does not show ({_hand_check('Default Role')})")
    for (roles, low, high), doings in found.disagree.items():
        open_.append(f"{roles} disagree on {', '.join(doings)}: where the most restrictive role wins it is "
                     f"{READING_WORDS[low]}, where the highest access wins it is {READING_WORDS[high]} — 1CRM does "
                     "not document which rule applies")
    decide = ("the probes of R4.4 decide for this probe user" if probe_user else
              "check by hand, or make this target a probe user (password_env) so that the probes of R4.4 decide")
    evidence = {"roles": [h.label for h in held if h.role.id != GAP_ID], "not_verifiable": open_}
    if found.denied:
        extra = f"; also not verifiable: {'; '.join(open_)}" if open_ else ""
        return Outcome.fail(f"target user {user.user_name} " + "; ".join(_phrases(found.denied)) + extra,
                            subject=address, evidence=evidence)
    if open_:
        return Outcome.not_verifiable(f"target user {user.user_name}: " + "; ".join(open_) + f" — {decide}",
                                      subject=address, evidence=evidence)
    if found.partly:
        return Outcome.fail(f"target user {user.user_name} " + "; ".join(_phrases(found.partly)) + " — records owned "
                            "by others will fail to sync", subject=address, advisory=True, evidence=evidence)
    names = ", ".join(h.label for h in held)
    return Outcome.ok(f"{user.user_name}: {names} allow{'s' if len(held) == 1 else ''} every right on all "
                      f"{len(datatypes)} datatypes", subject=address, evidence=evidence)
