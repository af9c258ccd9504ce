"""The simulator's data model: which REST models exist, their fields, and the tables they live in.

The store (store.py) creates one SQLite table per model from these definitions; the API (api.py)
serves fields and filters from them.
"""

from __future__ import annotations

from dataclasses import dataclass

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"

@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    required: bool = False
    editable: bool = True
    stored: bool = True  # False: computed when a record is served (e.g. assigned_user)


@dataclass(frozen=True)
class Model:
    name: str  # REST model name, e.g. "aCase"
    module: str  # ACL category, e.g. "Cases"
    fields: tuple[Field, ...]
    list_fields: tuple[str, ...]  # default set when a list names no fields[]
    filters: tuple[str, ...]  # the only fields that filters[...] accepts
    default_order: str
    person: bool = False  # "name" is derived from first_name + last_name

    @property
    def table(self) -> str:
        return f"m_{self.name}"

    def field(self, name: str) -> Field | None:
        return next((f for f in self.fields if f.name == name), None)

    @property
    def field_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.fields)

    @property
    def stored_fields(self) -> tuple[Field, ...]:
        return tuple(f for f in self.fields if f.stored)


def _f(name, type_, label, required=False, editable=True, stored=True) -> Field:
    return Field(name, type_, label, required, editable, stored)


_COMMON = (
    _f("id", "id", "ID", editable=False),
    _f("deleted", "bool", "Deleted", editable=False),
    _f("date_entered", "datetime", "Date Created", editable=False),
    _f("date_modified", "datetime", "Date Modified", editable=False),
    _f("assigned_user_id", "id", "Assigned User Id"),
    _f("assigned_user", "relate", "Assigned To", editable=False, stored=False),
    _f("created_by", "id", "Created By Id", editable=False),
    _f("created_by_user", "relate", "Created By", editable=False, stored=False),
    _f("modified_user_id", "id", "Modified By Id", editable=False),
    _f("modified_user", "relate", "Modified By", editable=False, stored=False),
)

_PERSON = (
    _f("name", "name", "Name", editable=False),
    _f("salutation", "enum", "Salutation"),
    _f("first_name", "name", "First Name"),
    _f("last_name", "name", "Last Name", required=True),
    _f("title", "varchar", "Title"),
    _f("email1", "email", "Email"),
    _f("phone_work", "phone", "Office Phone"),
)


def _record_model(name, module, specific, person=False) -> Model:
    list_fields = ("id", "name", "date_modified")
    return Model(
        name=name,
        module=module,
        fields=_COMMON + tuple(specific),
        list_fields=list_fields,
        filters=("assigned_user_id",),
        default_order="name",
        person=person,
    )


# REST model names are case-sensitive singular bean names. Call, Meeting, Email, User and ACLRole
# come from the info@hand code base: # [assumed] to be the REST names too (1crm-api.md §4).
RECORD_MODELS: tuple[Model, ...] = (
    _record_model("Contact", "Contacts", _PERSON + (_f("description", "text", "Description"),), person=True),
    _record_model(
        "Lead",
        "Leads",
        _PERSON
        + (
            _f("account_name", "varchar", "Account Name"),
            _f("status", "enum", "Status"),
            _f("lead_source", "enum", "Lead Source"),
            _f("description", "text", "Description"),
        ),
        person=True,
    ),
    _record_model(
        "Account",
        "Accounts",
        (
            _f("name", "name", "Name", required=True),
            _f("industry", "enum", "Industry"),
            _f("phone_office", "phone", "Office Phone"),
            _f("website", "url", "Website"),
            _f("email1", "email", "Email"),
            _f("description", "text", "Description"),
        ),
    ),
    _record_model(
        "Meeting",
        "Meetings",
        (
            _f("name", "name", "Subject", required=True),
            _f("date_start", "datetime", "Start Date", required=True),
            _f("duration", "int", "Duration (minutes)"),
            _f("location", "varchar", "Location"),
            _f("status", "enum", "Status"),
            _f("description", "text", "Description"),
        ),
    ),
    _record_model(
        "Call",
        "Calls",
        (
            _f("name", "name", "Subject", required=True),
            _f("date_start", "datetime", "Start Date", required=True),
            _f("duration", "int", "Duration (minutes)"),
            _f("direction", "enum", "Direction"),
            _f("status", "enum", "Status"),
            _f("description", "text", "Description"),
        ),
    ),
    _record_model(
        "Task",
        "Tasks",
        (
            _f("name", "name", "Subject", required=True),
            _f("date_due", "datetime", "Due Date"),
            _f("priority", "enum", "Priority"),
            _f("status", "enum", "Status"),
            _f("description", "text", "Description"),
        ),
    ),
    _record_model(
        "Note",
        "Notes",
        (
            _f("name", "name", "Subject", required=True),
            _f("parent_type", "varchar", "Related To Module"),
            _f("parent_id", "id", "Related To Id"),
            _f("description", "text", "Note"),
        ),
    ),
    _record_model(
        "Email",
        "Emails",
        (
            _f("name", "name", "Subject", required=True),
            _f("date_start", "datetime", "Date Sent"),
            _f("from_addr", "email", "From"),
            _f("to_addrs", "varchar", "To"),
            _f("type", "enum", "Type"),
            _f("description", "text", "Body"),
        ),
    ),
    _record_model(
        "Opportunity",
        "Opportunities",
        (
            _f("name", "name", "Name", required=True),
            _f("amount", "currency", "Amount"),
            _f("sales_stage", "enum", "Sales Stage"),
            _f("probability", "int", "Probability (%)"),
            _f("date_closed", "date", "Expected Close Date"),
            _f("description", "text", "Description"),
        ),
    ),
    _record_model(
        "aCase",
        "Cases",
        (
            _f("name", "name", "Subject", required=True),
            _f("status", "enum", "Status"),
            _f("priority", "enum", "Priority"),
            _f("description", "text", "Description"),
        ),
    ),
    _record_model(
        "Project",
        "Project",
        (
            _f("name", "name", "Name", required=True),
            _f("date_start", "date", "Start Date"),
            _f("date_end", "date", "End Date"),
            _f("status", "enum", "Status"),
            _f("description", "text", "Description"),
        ),
    ),
)

# [assumed] REST exposure of the User fields (known from the info@hand code base, 1crm-api.md §5)
USER_MODEL = Model(
    name="User",
    module="Users",
    fields=(
        _f("id", "id", "ID", editable=False),
        _f("user_name", "user_name", "User Name", required=True),
        _f("name", "name", "Full Name", editable=False),
        _f("first_name", "name", "First Name"),
        _f("last_name", "name", "Last Name", required=True),
        _f("email1", "email", "Email"),
        _f("email2", "email", "Other Email"),
        _f("status", "enum", "Status"),
        _f("is_admin", "bool", "Is Administrator"),
        _f("portal_only", "bool", "Portal Only User"),
        # Not a field of info@hand's User model (1crm-api.md §6): served only where a preset exposes it.
        _f("is_group", "bool", "Group User"),
        _f("password_expires", "date", "Password Expires"),  # [assumed] field name; empty: never
        _f("deleted", "bool", "Deleted", editable=False),
        _f("date_entered", "datetime", "Date Created", editable=False),
        _f("date_modified", "datetime", "Date Modified", editable=False),
        _f("created_by", "id", "Created By Id", editable=False),
        _f("created_by_user", "relate", "Created By", editable=False, stored=False),
        _f("modified_user_id", "id", "Modified By Id", editable=False),
        _f("modified_user", "relate", "Modified By", editable=False, stored=False),
    ),
    # [known] for Contact (1crm-api.md §3), [assumed] alike for User: without fields[] only the name fields.
    list_fields=("name", "first_name", "id", "last_name"),
    filters=("user_name", "status"),
    default_order="user_name",
    person=True,
)

# [assumed] ACLRole as a REST model (1crm-api.md §4/§5)
ACLROLE_MODEL = Model(
    name="ACLRole",
    module="ACLRoles",
    fields=(
        _f("id", "id", "ID", editable=False),
        _f("name", "name", "Name", required=True),
        _f("description", "text", "Description"),
        _f("deleted", "bool", "Deleted", editable=False),
        _f("date_entered", "datetime", "Date Created", editable=False),
        _f("date_modified", "datetime", "Date Modified", editable=False),
    ),
    list_fields=("id", "name"),
    filters=(),
    default_order="name",
)

# [source] teams are SecurityGroup records (links aclroles, users); REST exposure [assumed] (1crm-api.md §7)
SECURITYGROUP_MODEL = Model(
    name="SecurityGroup",
    module="SecurityGroups",
    fields=(
        _f("id", "id", "ID", editable=False),
        _f("name", "name", "Name", required=True),
        _f("description", "text", "Description"),
        _f("deleted", "bool", "Deleted", editable=False),
        _f("date_entered", "datetime", "Date Created", editable=False),
        _f("date_modified", "datetime", "Date Modified", editable=False),
    ),
    list_fields=("id", "name"),
    filters=(),
    default_order="name",
)

# The default field sets of the related lists, per (model, link): [assumed] like a list's, the name fields
# only; above all, a role's actions without fields[] carry no category, acltype or aclaccess.
RELATED_LIST_FIELDS = {
    ("User", "aclroles"): ("id", "name"),
    ("ACLRole", "users"): ("name", "first_name", "id", "last_name"),
    ("ACLRole", "actions"): ("id", "name"),
    ("SecurityGroup", "aclroles"): ("id", "name"),
    ("SecurityGroup", "users"): ("name", "first_name", "id", "last_name"),
}
ACTION_FIELDS = ("id", "category", "acltype", "name", "aclaccess")

MODELS: dict[str, Model] = {m.name: m for m in (*RECORD_MODELS, USER_MODEL, ACLROLE_MODEL, SECURITYGROUP_MODEL)}
RECORD_MODEL_NAMES = tuple(m.name for m in RECORD_MODELS)
MODULES = tuple(m.module for m in RECORD_MODELS)


def full_name(first: str | None, last: str | None) -> str:
    """The derived "name" of a person model."""
    return " ".join(p for p in (first, last) if p)


def quote(identifier: str) -> str:
    """A table or column name quoted for SQL."""
    return '"' + identifier.replace('"', '""') + '"'
