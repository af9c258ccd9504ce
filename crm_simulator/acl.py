"""The role rules: ACL levels, a user's rights on a module and action, and who may touch what.

[source] (1crm-api.md §7): a user holds roles directly and through teams; an action a role does not list
falls back to the Default Role, then to the module default; administrators bypass the rights. Module
access 99 or below 88 closes the module; for an action only 90 allows every record, 80/78/75 some,
99 and negative levels none.
[assumed] how roles combine (1CRM does not document it): here the most restrictive right wins. A user
with no role gets the Default Role. Own-team (80) and own-role (78) rights are narrowed to the user's
own records (the simulator keeps no team ownership of records).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from .context import deny, fail, store
from .schema import ACLROLE_MODEL, MODULES, SECURITYGROUP_MODEL, USER_MODEL, Model

if TYPE_CHECKING:
    from .store import Store

ACL_ACTIONS = ("access", "view", "list", "edit", "delete", "import", "export")
ACL_ADMIN_ONLY, ACL_ALL, ACL_ENABLED, ACL_LIMITED = 99, 90, 89, 88
ACL_OWN_TEAM, ACL_OWN_ROLE, ACL_OWNER, ACL_NORMAL = 80, 78, 75, 1
ACL_DISABLED, ACL_NONE = -98, -99
DEFAULT_ROLE_ID = "default_-role-0000-0000-000000000001"  # [source] info@hand's Default Role
DEFAULT_ROLE = "Default Role"
# What an ordinary user may do at each action level, most permissive first; anything else allows nothing.
_ACTION_RANK = {ACL_ALL: 4, ACL_OWN_TEAM: 3, ACL_OWN_ROLE: 2, ACL_OWNER: 1}


def role_rights(overrides: Mapping[str, Mapping[str, int]] | None = None, **levels: int):
    """{module: {action: aclaccess}} for every record module, with per-module overrides."""
    # "import" is a Python keyword, so callers spell it import_
    levels = {("import" if k == "import_" else k): v for k, v in levels.items()}
    rights = {m: {"access": ACL_ENABLED, **levels} for m in MODULES}
    for module, changes in (overrides or {}).items():
        rights[module].update(changes)
    return rights


def access_allowed(level: int) -> bool:
    return ACL_LIMITED <= level <= ACL_ALL


def _rank(action: str, level: int) -> int:
    if action == "access":
        return 1 if access_allowed(level) else 0
    return _ACTION_RANK.get(level, 0)


def user_levels(data: Store, user_id: str, module: str, action: str) -> tuple[int, int]:
    """(access, action level) for the user: per role its own level, else the Default Role's, else the module
    default; over several roles the most restrictive wins."""
    held = data.roles_held(user_id) or [DEFAULT_ROLE_ID]  # [assumed] no role: the Default Role
    default = _listed(data, DEFAULT_ROLE_ID, module)
    module_default = {"access": ACL_ENABLED}  # [assumed] the module default: enabled, every record
    result = {}
    for name in ("access", action):
        levels = []
        for role_id in held:
            listed = _listed(data, role_id, module)
            levels.append(listed.get(name, default.get(name, module_default.get(name, ACL_ALL))))
        result[name] = min(levels, key=lambda level: _rank(name, level))
    return result["access"], result[action]


def _listed(data: Store, role_id: str, module: str) -> dict[str, int]:
    return {r["name"]: int(r["aclaccess"]) for r in data.actions_of_role(role_id) if r["category"] == module}


def is_admin(user: dict) -> bool:
    return user.get("is_admin") == "1"


def check_acl(user: dict, model: Model, action: str) -> str | None:
    """Raise 403 when the user may not do ``action`` on ``model`` at all.

    Returns a user id when only some records qualify (owner only, and own team / own role as the
    simulator narrows them): then only records assigned to that user. Returns None when all qualify.
    """
    if model is USER_MODEL:
        if action in ("view", "list"):
            return None  # [assumed] every signed-in user may read users
        if not is_admin(user):
            deny(model.module, action)
        fail(405, "Model User is read-only in the simulator", "method_not_allowed")  # [assumed]
    if model in (ACLROLE_MODEL, SECURITYGROUP_MODEL):
        if not is_admin(user):
            deny(model.module, action)  # [assumed] role and team data only for administrators
        if action not in ("view", "list"):
            fail(405, f"Model {model.name} is read-only in the simulator", "method_not_allowed")  # [assumed]
        return None
    if is_admin(user):
        return None  # administrators bypass the rights
    access, level = user_levels(store, user["id"], model.module, action)
    if not access_allowed(access):
        deny(model.module, "access")  # the module is closed to this user
    rank = _rank(action, level)
    if rank == _ACTION_RANK[ACL_ALL]:
        return None
    if rank and action != "import":  # import is all / admin only / none
        return user["id"]
    deny(model.module, action)


def check_owner(user: dict, model: Model, record_id: str, action: str, owner: str | None) -> None:
    if owner is not None and store.owner_of(model, record_id) != owner:
        deny(model.module, action)
