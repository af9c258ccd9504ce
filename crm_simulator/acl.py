"""The role rules: ACL levels, a user's rights on a module and action, and who may touch what.

Most restrictive role wins, no role = unrestricted, administrators bypass, owner-only = assigned
records only (1crm-api.md §5).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Mapping

from .context import deny, fail, store
from .schema import ACLROLE_MODEL, MODULES, USER_MODEL, Model

if TYPE_CHECKING:
    from .store import Store

ACL_ACTIONS = ("access", "view", "list", "edit", "delete", "import", "export")
ACL_ENABLED, ACL_DISABLED = 89, -98
ACL_ALL, ACL_OWNER, ACL_NONE = 90, 75, -99


# [assumed] role rights shape and levels (1crm-api.md §5): access 89/-98; others 90 all, 75 owner, -99 none
def role_rights(overrides: Mapping[str, Mapping[str, int]] | None = None, **levels: int):
    """{module: {action: aclaccess}} for every record module, with per-module overrides."""
    # "import" is a Python keyword, so callers spell it import_
    levels = {("import" if k == "import_" else k): v for k, v in levels.items()}
    rights = {m: {"access": ACL_ENABLED, **levels} for m in MODULES}
    for module, changes in (overrides or {}).items():
        rights[module].update(changes)
    return rights


def user_levels(data: Store, user_id: str, module: str, action: str) -> tuple[int, int] | None:
    """(access, action level) for the user, the most restrictive over all roles; None: no role."""
    roles = data.roles_of_user(user_id)
    if not roles:
        return None
    levels: dict[str, int] = {}
    for role in roles:
        for right in data.actions_of_role(role["id"]):
            name, level = right["name"], right["aclaccess"]
            if right["category"] == module and name in ("access", action):
                levels[name] = min(level, levels.get(name, level))
    # An action a role does not list is not restricted by that role.
    return levels.get("access", ACL_ENABLED), levels.get(action, ACL_ALL)


def is_admin(user: dict) -> bool:
    return user.get("is_admin") == "1"


# [assumed] the role/rights model of 1crm-api.md §5 (Sugar lineage): levels, most restrictive
# role wins, no role = unrestricted, administrators bypass, owner-only = assigned records only.
def check_acl(user: dict, model: Model, action: str) -> str | None:
    """Raise 403 when the user may not do ``action`` on ``model`` at all.

    Returns a user id when the right is owner-only (75): then only records assigned to
    that user qualify. Returns None when no owner restriction applies.
    """
    if model is USER_MODEL:
        if action in ("view", "list"):
            return None  # [assumed] every signed-in user may read users
        if not is_admin(user):
            deny(model.module, action)
        fail(405, "Model User is read-only in the simulator", "method_not_allowed")  # [assumed]
    if model is ACLROLE_MODEL:
        if not is_admin(user):
            deny(model.module, action)  # [assumed] role data only for administrators
        if action not in ("view", "list"):
            fail(405, "Model ACLRole is read-only in the simulator", "method_not_allowed")  # [assumed]
        return None
    if is_admin(user):
        return None  # administrators bypass the rights
    levels = user_levels(store, user["id"], model.module, action)
    if levels is None:
        return None  # no role: unrestricted
    access, level = levels
    if access < 0:
        deny(model.module, "access")  # module disabled for this user
    if level >= ACL_ALL:
        return None
    if level >= ACL_OWNER:
        return user["id"]
    deny(model.module, action)


def check_owner(user: dict, model: Model, record_id: str, action: str, owner: str | None) -> None:
    if owner is not None and store.owner_of(model, record_id) != owner:
        deny(model.module, action)
