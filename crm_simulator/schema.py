"""The simulator's data model: which REST models exist, their fields, and the tables they live in.

The store (store.py) creates one SQLite table per model from these definitions; the API (api.py)
serves fields and filters from them.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .presets import Preset

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"
DATE_FORMAT = "%Y-%m-%d"
REFERENCE = "ref"  # [assumed] the type name /meta/fields gives a reference; the model it points to is bean_name


@dataclass(frozen=True)
class Field:
    name: str
    type: str
    label: str
    required: bool = False
    editable: bool = True
    stored: bool = True  # False: computed when a record is served (e.g. assigned_user)
    default: str | None = None  # set by the server when a create leaves the field out
    options: tuple[tuple[str, str], ...] = ()  # an enum's (value, label) pairs
    target: str | None = None  # the model a reference points to
    advertised: bool = True  # False: enforced, but /meta/fields does not list it (a server customisation)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(value for value, _ in self.options)


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


def _f(name, type_, label, required=False, editable=True, stored=True, *, default=None, options=(), target=None) -> Field:
    pairs = tuple(options.items()) if isinstance(options, dict) else tuple((o, o) for o in options)
    return Field(name, type_, label, required, editable, stored, default, pairs, target)


def _enum(name, label, options, *, required=False, default=None) -> Field:
    return _f(name, "enum", label, required, options=options, default=default)


def _ref(name, label, target) -> Field:
    """A required reference without a default (1crm-api.md §5)."""
    return _f(name, REFERENCE, label, True, target=target)


_COMMON = (
    _f("id", "id", "ID", editable=False),
    _f("deleted", "bool", "Deleted", editable=False),
    _f("date_entered", "datetime", "Date Created", editable=False),
    _f("date_modified", "datetime", "Date Modified", editable=False),
    _f("assigned_user_id", "id", "Assigned User Id", editable=False),  # the server assigns it (1crm-api.md §5)
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


DISPLAY = "_display"  # the record's display name in a list; [assumed] its value: the record's name
# [known] what a Contact list without fields[] returns (1crm-api.md §3); the other models' set is [assumed]
CONTACT_LIST_FIELDS = ("name", "first_name", "id", "last_name", "salutation", DISPLAY)


def _record_model(name, module, specific, person=False, list_fields=("id", "name", "date_modified")) -> Model:
    return Model(
        name=name,
        module=module,
        fields=_COMMON + tuple(specific),
        list_fields=list_fields,
        # name-style filters only, matching by prefix; ownership is not a filter (1crm-api.md §3)
        filters=("first_name", "last_name") if person else ("name",),
        default_order="name",
        person=person,
    )


_MEETING_STATUS = ("Planned", "Held", "Not Held")


# REST model names are case-sensitive singular bean names. Call, Meeting, Email, User and ACLRole
# come from the info@hand code base: # [assumed] to be the REST names too (1crm-api.md §4).
# Fields, enum values and required references after info@hand's models [source] (1crm-api.md §5); enum
# values the contract does not list are # [assumed].
RECORD_MODELS: tuple[Model, ...] = (
    _record_model("Contact", "Contacts", _PERSON + (_f("description", "text", "Description"),), person=True,
                  list_fields=CONTACT_LIST_FIELDS),
    _record_model(
        "Lead",
        "Leads",
        _PERSON
        + (
            _f("account_name", "varchar", "Account Name"),
            _enum("status", "Status", ("New", "Assigned", "In Process", "Converted", "Recycled", "Dead"), default="New"),
            _enum("lead_source", "Lead Source", ("Web Site", "Cold Call", "Trade Show", "Email", "Other")),  # [assumed]
            _f("description", "text", "Description"),
        ),
        person=True,
    ),
    _record_model(
        "Account",
        "Accounts",
        (
            _f("name", "name", "Name", required=True),
            _enum("industry", "Industry", ("Technology", "Retail", "Finance", "Manufacturing", "Healthcare", "Other")),  # [assumed]
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
            _f("duration", "int", "Duration (minutes)"),  # one field in minutes: no duration_hours/_minutes
            _f("location", "varchar", "Location"),
            _enum("status", "Status", _MEETING_STATUS, default="Planned"),  # [assumed] values
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
            _enum("direction", "Direction", ("Inbound", "Outbound")),  # [assumed] values
            _enum("status", "Status", _MEETING_STATUS, default="Planned"),  # [assumed] values
            _f("description", "text", "Description"),
        ),
    ),
    _record_model(
        "Task",
        "Tasks",
        (
            _f("name", "name", "Subject", required=True),
            _f("date_due", "datetime", "Due Date"),
            _enum("priority", "Priority", {"P0": "Low", "P1": "Medium", "P2": "High"}, default="P1"),
            _enum("status", "Status", ("Not Started", "In Progress", "Completed", "Pending Input", "Deferred"),
                  default="Not Started"),  # [assumed] the values beside the default
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
            _enum("type", "Type", ("archived", "inbound", "out", "draft"), default="archived"),  # [assumed]
            _ref("folder_ref", "Folder", "EmailFolder"),
            _f("description", "text", "Body"),
        ),
    ),
    _record_model(
        "Opportunity",
        "Opportunities",
        (
            _f("name", "name", "Name", required=True),
            _ref("account", "Account", "Account"),
            _f("amount", "currency", "Amount", required=True),  # [assumed] required
            _enum("sales_stage", "Sales Stage", ("Prospecting", "Qualification", "Needs Analysis", "Proposal",
                                                 "Negotiation", "Closed Won", "Closed Lost"),
                  required=True, default="Prospecting"),  # [assumed] values and default
            _f("probability", "int", "Probability (%)"),
            _f("date_closed", "date", "Expected Close Date", required=True),  # [assumed] required
            _f("description", "text", "Description"),
        ),
    ),
    _record_model(
        "aCase",
        "Cases",
        (
            _f("name", "name", "Subject", required=True),
            _enum("status", "Status", ("Active - New", "Active - Assigned", "Pending", "Closed - Complete",
                                       "Closed - No Fault"), default="Active - New"),
            _enum("priority", "Priority", {"P1": "High", "P2": "Medium", "P3": "Low"}, default="P2"),  # [assumed] P1/P2
            _f("description", "text", "Description"),
        ),
    ),
    _record_model(
        "Project",
        "Project",
        (
            _f("name", "name", "Name", required=True),
            _f("date_starting", "date", "Start Date", required=True),
            _f("date_ending", "date", "End Date", required=True),
            _enum("project_phase", "Phase", ("Active - Starting Soon", "Active - In Progress", "Active - Nearly Complete",
                                             "Closed - Complete", "Closed - Terminated"), required=True),  # [assumed] values
            _ref("account", "Account", "Account"),
            _f("description", "text", "Description"),
        ),
    ),
)

# [assumed] the REST model of a user's e-mail folders; the contract does not say how folders are listed.
# Read-only; each user sees only the folders assigned to them.
FOLDER_MODEL = Model(
    name="EmailFolder",
    module="EmailFolders",
    fields=(
        _f("id", "id", "ID", editable=False),
        _f("name", "name", "Name", required=True),
        _f("assigned_user_id", "id", "Owner", editable=False),
        _f("deleted", "bool", "Deleted", editable=False),
        _f("date_entered", "datetime", "Date Created", editable=False),
        _f("date_modified", "datetime", "Date Modified", editable=False),
    ),
    list_fields=("id", "name"),
    filters=("name",),
    default_order="name",
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

def _named_model(name: str, module: str) -> Model:
    """A model that is just a name (roles, teams): no owner, no person fields."""
    return Model(
        name=name,
        module=module,
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


# [assumed] ACLRole as a REST model (1crm-api.md §4/§5)
ACLROLE_MODEL = _named_model("ACLRole", "ACLRoles")
# [source] teams are SecurityGroup records (links aclroles, users); REST exposure [assumed] (1crm-api.md §7)
SECURITYGROUP_MODEL = _named_model("SecurityGroup", "SecurityGroups")

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

MODELS: dict[str, Model] = {m.name: m for m in (*RECORD_MODELS, FOLDER_MODEL, USER_MODEL, ACLROLE_MODEL, SECURITYGROUP_MODEL)}
RECORD_MODEL_NAMES = tuple(m.name for m in RECORD_MODELS)
MODULES = tuple(m.module for m in RECORD_MODELS)


def models_for(preset: Preset) -> dict[str, Model]:
    """MODELS with the preset's customisations: required text fields without a default, advertised in
    /meta/fields or not. Models the preset leaves alone are the very objects of MODELS."""
    models = dict(MODELS)
    for model_name, field_name, advertised in preset.required_fields:
        model = models[model_name]
        extra = Field(field_name, "varchar", field_name.replace("_", " ").title(), required=True, advertised=advertised)
        models[model_name] = replace(model, fields=model.fields + (extra,))
    return models


def full_name(first: str | None, last: str | None) -> str:
    """The derived "name" of a person model."""
    return " ".join(p for p in (first, last) if p)


def quote(identifier: str) -> str:
    """A table or column name quoted for SQL."""
    return '"' + identifier.replace('"', '""') + '"'
