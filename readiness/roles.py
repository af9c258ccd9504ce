"""Role rights of the target users (R4.3), read once per role and judged in memory.

1crm-api.md section 5 [assumed]: a role lists, per module, access (89 enabled, -98 disabled) and
view/list/edit/delete/import/export levels (90 all, 75 owner only, -99 none); an action a role
does not list is not restricted; with several roles the most restrictive wins; no role means
unrestricted; administrators are not restricted.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .client import CrmApi
from .outcome import Outcome
from .users import CrmUser

MODULES = {"Contact": "Contacts", "Lead": "Leads", "Account": "Accounts", "Meeting": "Meetings", "Call": "Calls",
           "Task": "Tasks", "Note": "Notes", "Email": "Emails", "Opportunity": "Opportunities", "aCase": "Cases",
           "Project": "Project"}
# What Riva does with each right: edit covers create and update.
NEEDED = {"view": "read", "list": "list", "edit": "create or edit", "delete": "delete", "import": "import",
          "export": "export"}
ACCESS_ENABLED, LEVEL_ALL = 89, 90


@dataclass
class Role:
    id: str
    name: str
    rights: dict[str, dict[str, int]] = field(default_factory=dict)  # module -> action -> level
    members: set[str] = field(default_factory=set)  # user ids

    def level(self, module: str, action: str) -> int:
        default = ACCESS_ENABLED if action == "access" else LEVEL_ALL
        return self.rights.get(module, {}).get(action, default)


def read_roles(api: CrmApi) -> list[Role]:
    """Every role with its members and rights: 1 + 2 listings per role, never per user."""
    roles = [Role(str(r["id"]), r.get("name") or str(r["id"])) for r in api.list("ACLRole", fields=["id", "name"])]
    for role in roles:
        role.members = {str(u["id"]) for u in api.list(f"ACLRole/{role.id}/users")}
        for action in api.list(f"ACLRole/{role.id}/actions"):
            if action.get("acltype", "module") == "module":
                role.rights.setdefault(action["category"], {})[action["name"]] = int(action["aclaccess"])
    return roles


def roles_of(user: CrmUser, roles: list[Role]) -> list[Role]:
    return [role for role in roles if user.id in role.members]


def judge(address: str, user: CrmUser, roles: list[Role], datatypes: tuple[str, ...]) -> Outcome:
    """Whether this target user's roles let Riva sync every datatype, in Riva's own terms."""
    if user.is_admin:
        return Outcome.ok(f"{user.user_name} is an administrator: roles do not restrict it", subject=address)
    if not roles:
        return Outcome.ok(f"{user.user_name} has no role: nothing is restricted", subject=address)
    denied, owner_only = [], []
    for model in datatypes:
        module = MODULES[model]
        access, role = min((r.level(module, "access"), r.name) for r in roles)
        if access < 0:
            denied.append(f"the {module} module is disabled by role '{role}'")
            continue
        for action, doing in NEEDED.items():
            level, role = min((r.level(module, action), r.name) for r in roles)
            if level < 0:
                denied.append(f"cannot {doing} {model} records: role '{role}' denies {action}")
            elif level < LEVEL_ALL:
                owner_only.append(f"may {doing} only its own {model} records (role '{role}')")
    names = ", ".join(f"'{r.name}'" for r in roles)
    if denied:
        return Outcome.fail(f"target user {user.user_name} " + "; ".join(denied), subject=address)
    if owner_only:
        return Outcome.fail(f"target user {user.user_name} " + "; ".join(owner_only) + " — records owned by others "
                            "will fail to sync", subject=address, advisory=True)
    return Outcome.ok(f"{user.user_name}: role {names} allows every right on all {len(datatypes)} datatypes",
                      subject=address)
