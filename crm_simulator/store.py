"""The simulator's data: an in-memory SQLite database seeded deterministically with Faker.

One table per model (columns generated from the model definitions below), plus tables for
passwords (kept apart so that no query that serves records can ever read them), ACL roles,
role-user assignments, role actions and the audit log. One connection per Store, guarded by a
lock, so one Store can be shared by the server's worker threads and two Stores never share state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import random
import sqlite3
import threading
import uuid
from dataclasses import dataclass
from typing import Any, Iterable, Mapping

from faker import Faker

from .presets import Preset

# --------------------------------------------------------------------------------------------
# Well-known seed users (documented so that tests and demos can rely on them)
# --------------------------------------------------------------------------------------------

CONNECTION_USER = "riva_svc"
CONNECTION_PASSWORD = "Sim-Riva-Pass-1"
ADMIN_USER = "admin"
DUMMY_USER = "guest"  # who "signs in" on the accepts-any-login preset

#: user_name -> password of the seed users whose passwords are published (connection user aside).
KNOWN_PASSWORDS: dict[str, str] = {
    "admin": "Sim-Admin-Pass-1",
    "alice.archer": "Sim-Alice-Pass-1",
    "bob.baker": "Sim-Bob-Pass-1",
    "sam.support": "Sim-Sam-Pass-1",
    "rita.reader": "Sim-Rita-Pass-1",
    "mia.multi": "Sim-Mia-Pass-1",
}

ACL_ACTIONS = ("access", "view", "list", "edit", "delete", "import", "export")
ACL_ENABLED, ACL_DISABLED = 89, -98
ACL_ALL, ACL_OWNER, ACL_NONE = 90, 75, -99

DATETIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class StoreError(Exception):
    """A request the store refuses; the app turns it into a JSON error."""

    def __init__(self, status: int, message: str, error: str = "invalid_request"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error


# --------------------------------------------------------------------------------------------
# Model definitions
# --------------------------------------------------------------------------------------------


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
        _f("is_group", "bool", "Group User"),  # [assumed] REST exposure of is_group
        _f("password_expires", "date", "Password Expires"),  # [assumed] field name; empty: never
        _f("deleted", "bool", "Deleted", editable=False),
        _f("date_entered", "datetime", "Date Created", editable=False),
        _f("date_modified", "datetime", "Date Modified", editable=False),
        _f("created_by", "id", "Created By Id", editable=False),
        _f("created_by_user", "relate", "Created By", editable=False, stored=False),
        _f("modified_user_id", "id", "Modified By Id", editable=False),
        _f("modified_user", "relate", "Modified By", editable=False, stored=False),
    ),
    list_fields=("id", "user_name", "first_name", "last_name", "email1", "status", "date_modified"),
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

MODELS: dict[str, Model] = {m.name: m for m in (*RECORD_MODELS, USER_MODEL, ACLROLE_MODEL)}
RECORD_MODEL_NAMES = tuple(m.name for m in RECORD_MODELS)
MODULES = tuple(m.module for m in RECORD_MODELS)

# --------------------------------------------------------------------------------------------
# Roles and fixed seed users
# --------------------------------------------------------------------------------------------


# [assumed] role rights shape and levels (1crm-api.md §5): access 89/-98; others 90 all, 75 owner, -99 none
def _role_rights(overrides: Mapping[str, Mapping[str, int]] | None = None, **levels: int):
    """{module: {action: aclaccess}} for every record module, with per-module overrides."""
    # "import" is a Python keyword, so callers spell it import_
    levels = {("import" if k == "import_" else k): v for k, v in levels.items()}
    rights = {m: {"access": ACL_ENABLED, **levels} for m in MODULES}
    for module, changes in (overrides or {}).items():
        rights[module].update(changes)
    return rights


ROLES: dict[str, tuple[str, dict[str, dict[str, int]]]] = {
    "Sales": (
        "Full rights on every module Riva syncs.",
        _role_rights(view=90, list=90, edit=90, delete=90, import_=90, export=90),
    ),
    # Support: no delete anywhere, Opportunities disabled, Accounts owner-only.
    "Support": (
        "Support staff: no delete, no Opportunities, own Accounts only.",
        _role_rights(
            {
                "Opportunities": {"access": ACL_DISABLED},
                "Accounts": {"view": ACL_OWNER, "list": ACL_OWNER, "edit": ACL_OWNER},
            },
            view=90,
            list=90,
            edit=90,
            delete=-99,
            import_=90,
            export=90,
        ),
    ),
    "Read only": (
        "May look, may not touch.",
        _role_rights(view=90, list=90, edit=-99, delete=-99, import_=-99, export=-99),
    ),
}


@dataclass(frozen=True)
class SeedUser:
    user_name: str
    first_name: str
    last_name: str
    email1: str
    email2: str | None = None
    status: str = "Active"
    is_admin: str = "0"
    portal_only: str = "0"
    is_group: str = "0"
    roles: tuple[str, ...] = ()
    password: str | None = None  # None: a random one nobody knows


def _known(user_name: str, first: str, last: str, roles: tuple[str, ...]) -> SeedUser:
    """A target-like user with a published password and the e-mail <user_name>@example.com."""
    return SeedUser(user_name, first, last, f"{user_name}@example.com", roles=roles,
                    password=KNOWN_PASSWORDS[user_name])


FIXED_USERS: tuple[SeedUser, ...] = (
    SeedUser(CONNECTION_USER, "Riva", "Service", "riva_svc@example.com", is_admin="1", password=CONNECTION_PASSWORD),
    SeedUser(ADMIN_USER, "Ada", "Administrator", "admin@example.com", is_admin="1", password=KNOWN_PASSWORDS["admin"]),
    _known("alice.archer", "Alice", "Archer", ("Sales",)),
    _known("bob.baker", "Bob", "Baker", ("Sales",)),
    _known("sam.support", "Sam", "Support", ("Support",)),
    _known("rita.reader", "Rita", "Reader", ("Read only",)),
    # Two roles: the most restrictive right of "Sales" and "Read only" wins.
    _known("mia.multi", "Mia", "Multi", ("Sales", "Read only")),
    # The user-matching diagnoses of R4.2, one user (or pair) each:
    SeedUser("dana.dormant", "Dana", "Dormant", "dana.dormant@example.com", status="Inactive", roles=("Sales",)),
    SeedUser("evan.exit", "Evan", "Exit", "evan.exit@example.com", status="Inactive"),
    SeedUser("support.team", "Support", "Team", "support.team@example.com", is_group="1"),
    SeedUser("paula.portal", "Paula", "Portal", "paula.portal@example.com", portal_only="1"),
    SeedUser("shared.one", "Shared", "One", "shared.mailbox@example.com", roles=("Sales",)),
    SeedUser("shared.two", "Shared", "Two", "shared.mailbox@example.com", roles=("Sales",)),
    SeedUser("gina.green", "Gina", "Green", "gina.green@example.com", email2="g.green@example.org", roles=("Sales",)),
    SeedUser("henry.hill", "Henry", "Hill", "Henry.Hill@Example.com", roles=("Sales",)),
)
RECORDS_PER_MODEL = 20
# Seed records are assigned round-robin to these owners (then to the first faker users).
RECORD_OWNERS = ("alice.archer", "bob.baker", "sam.support", "rita.reader", "admin", "riva_svc")
_SEED_EPOCH = dt.datetime(2024, 1, 2, 9, 0, 0)


def now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime(DATETIME_FORMAT)


def _hash_password(password: str, salt: bytes) -> bytes:
    # A plain salted SHA-256 is enough for throw-away simulator passwords and keeps seeding fast.
    return hashlib.sha256(salt + password.encode("utf-8")).digest()


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class Store:
    """Everything the simulated CRM knows. All public methods are thread-safe."""

    def __init__(self, preset: Preset, *, connection_password: str | None = None):
        self.preset = preset
        self.faker_mailboxes: list[str] = []  # filled by the seeder
        self._lock = threading.RLock()
        self._db = sqlite3.connect(":memory:", check_same_thread=False)
        self._db.row_factory = sqlite3.Row
        with self._lock:
            self._create_schema()
            _Seeder(self, preset, connection_password or CONNECTION_PASSWORD).run()
            self._db.commit()

    # ----- schema ----------------------------------------------------------------------------

    def _create_schema(self) -> None:
        ddl = []
        for model in MODELS.values():
            cols = ", ".join(
                f"{_quote(f.name)} TEXT" + (" PRIMARY KEY" if f.name == "id" else "")
                for f in model.stored_fields
            )
            ddl.append(f"CREATE TABLE {_quote(model.table)} ({cols})")
        ddl += [
            "CREATE TABLE user_secrets (user_id TEXT PRIMARY KEY, salt BLOB, hash BLOB)",
            "CREATE TABLE acl_roles_users (id TEXT PRIMARY KEY, role_id TEXT, user_id TEXT)",
            "CREATE TABLE acl_role_actions (id TEXT PRIMARY KEY, role_id TEXT, category TEXT,"
            " acltype TEXT, name TEXT, aclaccess INTEGER)",
            "CREATE TABLE audit_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT, model TEXT,"
            " parent_id TEXT, created_by TEXT, date_created TEXT, field_name TEXT, data_type TEXT,"
            " before_value_string TEXT, after_value_string TEXT)",
        ]
        for statement in ddl:
            self._db.execute(statement)

    def _insert(self, table: str, values: Mapping[str, Any]) -> None:
        cols = ", ".join(_quote(c) for c in values)
        marks = ", ".join("?" for _ in values)
        self._db.execute(f"INSERT INTO {_quote(table)} ({cols}) VALUES ({marks})", tuple(values.values()))

    # ----- users and credentials -------------------------------------------------------------

    def _set_password(self, user_id: str, password: str, salt: bytes) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO user_secrets (user_id, salt, hash) VALUES (?, ?, ?)",
            (user_id, salt, _hash_password(password, salt)),
        )

    def user(self, user_id: str) -> dict | None:
        """The user's stored row (no password), or None; deleted users are not returned."""
        with self._lock:
            row = self._db.execute(
                f"SELECT * FROM {_quote(USER_MODEL.table)} WHERE id = ? AND deleted = '0'", (user_id,)
            ).fetchone()
        return dict(row) if row else None

    def user_by_name(self, user_name: str) -> dict | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT * FROM {_quote(USER_MODEL.table)} WHERE user_name = ? AND deleted = '0'",
                (user_name,),
            ).fetchone()
        return dict(row) if row else None

    def check_credentials(self, user_name: str, password: str) -> dict | None:
        """The *active* user with this user name and password, else None."""
        user = self.user_by_name(user_name or "")
        if user is None or user["status"] != "Active":
            return None
        with self._lock:
            secret = self._db.execute(
                "SELECT salt, hash FROM user_secrets WHERE user_id = ?", (user["id"],)
            ).fetchone()
        if secret is None:
            return None
        if not hmac.compare_digest(_hash_password(password or "", secret["salt"]), secret["hash"]):
            return None
        return user

    def _user_names(self) -> dict[str, str]:
        rows = self._db.execute(f"SELECT id, user_name FROM {_quote(USER_MODEL.table)}").fetchall()
        return {r["id"]: r["user_name"] for r in rows}

    # ----- records -----------------------------------------------------------------------------

    def _present(self, model: Model, row: Mapping[str, Any], fields: Iterable[str] | None, names) -> dict:
        wanted = model.field_names if fields is None else ["id", *[f for f in fields if f != "id"]]
        record = {}
        for name in wanted:
            field = model.field(name)
            if field is None:
                continue  # [assumed] unknown fields in fields[] are left out, not an error
            if field.stored:
                record[name] = row[name]
            else:
                source = {"assigned_user": "assigned_user_id", "created_by_user": "created_by",
                          "modified_user": "modified_user_id"}[name]
                record[name] = names.get(row[source]) if row[source] else None
        return record

    def list(
        self,
        model: Model,
        *,
        fields: list[str] | None = None,
        filters: Mapping[str, str] | None = None,
        order: str | None = None,
        offset: int = 0,
        limit: int = 20,
        owner_id: str | None = None,
    ) -> tuple[list[dict], int]:
        where, params = ["deleted = '0'"], []
        for name, value in (filters or {}).items():
            if name not in model.filters:
                raise StoreError(400, f"Filter {name} is not supported for model {model.name}", "invalid_filter")  # [assumed]
            # [assumed] filters match exactly, ignoring letter case (MySQL's usual collation)
            where.append(f"{_quote(name)} = ? COLLATE NOCASE")
            params.append(value)
        if owner_id is not None:
            where.append("assigned_user_id = ?")
            params.append(owner_id)
        order_sql = self._order_sql(model, order)
        clause = " AND ".join(where)
        with self._lock:
            total = self._db.execute(
                f"SELECT COUNT(*) FROM {_quote(model.table)} WHERE {clause}", params
            ).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM {_quote(model.table)} WHERE {clause} ORDER BY {order_sql} LIMIT ? OFFSET ?",
                [*params, limit, offset],
            ).fetchall()
            names = self._user_names()
        wanted = fields if fields else list(model.list_fields)
        return [self._present(model, r, wanted, names) for r in rows], total

    def _order_sql(self, model: Model, order: str | None) -> str:
        text = (order or model.default_order).strip()
        parts = text.split()
        if not parts or len(parts) > 2:
            raise StoreError(400, f"Invalid order: {order}")
        name, direction = parts[0], (parts[1].upper() if len(parts) == 2 else "ASC")
        field = model.field(name)
        if field is None or not field.stored or direction not in ("ASC", "DESC"):
            raise StoreError(400, f"Invalid order: {order}")  # [assumed]
        return f"{_quote(name)} COLLATE NOCASE {direction}, id ASC"

    def _row(self, model: Model, record_id: str, *, include_deleted: bool = False):
        sql = f"SELECT * FROM {_quote(model.table)} WHERE id = ?"
        if not include_deleted:
            sql += " AND deleted = '0'"
        return self._db.execute(sql, (record_id,)).fetchone()

    def read(self, model: Model, record_id: str, fields: list[str] | None = None) -> dict | None:
        with self._lock:
            row = self._row(model, record_id)
            if row is None:
                return None
            return self._present(model, row, fields or None, self._user_names())

    def exists(self, model: Model, record_id: str, *, include_deleted: bool = False) -> bool:
        with self._lock:
            return self._row(model, record_id, include_deleted=include_deleted) is not None

    def _clean_data(self, model: Model, data: Mapping[str, Any]) -> dict[str, str | None]:
        """Keep the editable fields; the server owns id, ownership and date fields."""
        if not isinstance(data, Mapping):
            raise StoreError(400, 'The request body must be a JSON object with a "data" object')
        clean: dict[str, str | None] = {}
        for name, value in data.items():
            field = model.field(name)
            if field is None or not field.editable or not field.stored:
                continue  # [assumed] unknown and read-only fields are ignored, as Sugar does
            if value is None:
                clean[name] = None
            elif isinstance(value, bool):
                clean[name] = "1" if value else "0"
            elif isinstance(value, (str, int, float)):
                clean[name] = str(value)
            else:
                raise StoreError(400, f"Invalid value for field {name}")
        assigned = clean.get("assigned_user_id")
        if assigned is not None and self.user(assigned) is None:
            raise StoreError(400, f"Unknown assigned_user_id {assigned}")  # [assumed]
        return clean

    def create(self, model: Model, data: Mapping[str, Any], actor_id: str) -> str:
        with self._lock:
            values = self._clean_data(model, data)
            # [assumed] a record created without assigned_user_id is assigned to the signed-in user
            if not values.get("assigned_user_id"):
                values["assigned_user_id"] = actor_id
            missing = [f.name for f in model.fields if f.required and not values.get(f.name)]
            if missing:
                raise StoreError(400, f"Missing required field: {', '.join(missing)}")  # [assumed]
            stamp = now_text()
            record_id = str(uuid.uuid4())
            row = {f.name: None for f in model.stored_fields}
            row.update(values)
            row.update(
                id=record_id,
                deleted="0",
                date_entered=stamp,
                date_modified=stamp,
                created_by=actor_id,
                modified_user_id=actor_id,
            )
            if model.person:
                row["name"] = _full_name(row.get("first_name"), row.get("last_name"))
            self._insert(model.table, row)
            audited = {k: v for k, v in row.items() if k in values or k == "assigned_user_id"}
            self._audit(model, record_id, actor_id, stamp, {k: (None, v) for k, v in audited.items()})
            self._db.commit()
            return record_id

    def update(self, model: Model, record_id: str, data: Mapping[str, Any], actor_id: str) -> bool:
        with self._lock:
            row = self._row(model, record_id)
            if row is None:
                return False
            values = self._clean_data(model, data)
            changes = {k: (row[k], v) for k, v in values.items() if row[k] != v}
            if model.person and ({"first_name", "last_name"} & set(values)):
                first = values.get("first_name", row["first_name"])
                last = values.get("last_name", row["last_name"])
                values["name"] = _full_name(first, last)
            for f in model.fields:
                if f.required and f.name in values and not values[f.name]:
                    raise StoreError(400, f"Missing required field: {f.name}")  # [assumed]
            stamp = now_text()
            values.update(date_modified=stamp, modified_user_id=actor_id)
            sets = ", ".join(f"{_quote(k)} = ?" for k in values)
            self._db.execute(
                f"UPDATE {_quote(model.table)} SET {sets} WHERE id = ?", [*values.values(), record_id]
            )
            self._audit(model, record_id, actor_id, stamp, changes)
            self._db.commit()
            return True

    def delete(self, model: Model, record_id: str, actor_id: str) -> bool:
        """Soft delete: the row stays, marked deleted, and is no longer listed or readable."""
        with self._lock:
            if self._row(model, record_id) is None:
                return False
            stamp = now_text()
            self._db.execute(
                f"UPDATE {_quote(model.table)} SET deleted = '1', date_modified = ?, modified_user_id = ?"
                " WHERE id = ?",
                (stamp, actor_id, record_id),
            )
            # [assumed] a delete is audited too, as a change of "deleted" from 0 to 1
            self._audit(model, record_id, actor_id, stamp, {"deleted": ("0", "1")})
            self._db.commit()
            return True

    def owner_of(self, model: Model, record_id: str, *, include_deleted: bool = False) -> str | None:
        with self._lock:
            row = self._row(model, record_id, include_deleted=include_deleted)
            return row["assigned_user_id"] if row is not None else None

    # ----- audit -----------------------------------------------------------------------------

    def _audit(self, model: Model, record_id: str, actor_id: str, stamp: str, changes) -> None:
        for name, (before, after) in changes.items():
            field = model.field(name)
            self._insert(
                "audit_log",
                {
                    "id": str(uuid.uuid4()),
                    "model": model.name,
                    "parent_id": record_id,
                    "created_by": actor_id,
                    "date_created": stamp,
                    "field_name": name,
                    "data_type": field.type if field else "varchar",
                    "before_value_string": before,
                    "after_value_string": after,
                },
            )

    def audit(self, model: Model, record_id: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT * FROM audit_log WHERE model = ? AND parent_id = ? ORDER BY seq",
                (model.name, record_id),
            ).fetchall()
            names = self._user_names()
        return [
            {
                "id": r["id"],
                "parent_id": r["parent_id"],
                "created_by": r["created_by"],
                "created_by_user": names.get(r["created_by"]),
                "date_created": r["date_created"],
                "field_name": r["field_name"],
                "data_type": r["data_type"],
                "before_value_string": r["before_value_string"],
                "after_value_string": r["after_value_string"],
            }
            for r in rows
        ]

    # ----- ACL ---------------------------------------------------------------------------------

    # ----- for tests: what happened to the data -------------------------------------------------

    def snapshot(self) -> dict[tuple[str, str], dict]:
        """Every record row, deleted ones too, by (model, id), with what a change would alter."""
        rows = {}
        with self._lock:
            for model in RECORD_MODELS:
                query = (f"SELECT id, deleted, date_modified, modified_user_id, assigned_user_id "
                         f"FROM {_quote(model.table)}")
                for row in self._db.execute(query):
                    rows[(model.name, row[0])] = dict(zip(("deleted", "date_modified", "modified_user_id",
                                                           "assigned_user_id"), row[1:]))
        return rows

    def live_records(self, *, title_prefix: str) -> list[tuple[str, str]]:
        """(model, id) of records not deleted whose title (name or last name) starts with the prefix."""
        found = []
        with self._lock:
            for model in RECORD_MODELS:
                title = "last_name" if model.field("last_name") else "name"
                query = f"SELECT id FROM {_quote(model.table)} WHERE deleted = '0' AND {_quote(title)} LIKE ?"
                found += [(model.name, row[0]) for row in self._db.execute(query, (title_prefix + "%",))]
        return found

    def roles_of_user(self, user_id: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT r.id, r.name FROM {_quote(ACLROLE_MODEL.table)} r"
                " JOIN acl_roles_users ru ON ru.role_id = r.id"
                " WHERE ru.user_id = ? AND r.deleted = '0' ORDER BY r.name",
                (user_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def users_of_role(self, role_id: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                f"SELECT u.id, u.user_name FROM {_quote(USER_MODEL.table)} u"
                " JOIN acl_roles_users ru ON ru.user_id = u.id"
                " WHERE ru.role_id = ? AND u.deleted = '0' ORDER BY u.user_name",
                (role_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def actions_of_role(self, role_id: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, category, acltype, name, aclaccess FROM acl_role_actions"
                " WHERE role_id = ? ORDER BY rowid",
                (role_id,),
            ).fetchall()
        return [dict(r) for r in rows]

    def acl_levels(self, user_id: str, module: str, action: str) -> tuple[int, int] | None:
        """(access, action level) for the user, the most restrictive over all roles; None: no role."""
        with self._lock:
            roles = [r["id"] for r in self.roles_of_user(user_id)]
            if not roles:
                return None
            marks = ", ".join("?" for _ in roles)
            rows = self._db.execute(
                f"SELECT name, MIN(aclaccess) AS level FROM acl_role_actions"
                f" WHERE role_id IN ({marks}) AND category = ? AND name IN ('access', ?) GROUP BY name",
                (*roles, module, action),
            ).fetchall()
        levels = {r["name"]: r["level"] for r in rows}
        # An action a role does not list is not restricted by that role.
        return levels.get("access", ACL_ENABLED), levels.get(action, ACL_ALL)


def _full_name(first: str | None, last: str | None) -> str:
    return " ".join(p for p in (first, last) if p)


class _Seeder:
    """Fills a fresh Store. Every random choice comes from generators seeded by the preset."""

    def __init__(self, store: Store, preset: Preset, connection_password: str):
        self.store = store
        self.preset = preset
        self.connection_password = connection_password
        self.rng = random.Random(preset.seed)
        self.fake = Faker("en_US")
        self.fake.seed_instance(preset.seed)
        self.user_ids: dict[str, str] = {}

    def new_id(self) -> str:
        return str(uuid.UUID(int=self.rng.getrandbits(128), version=4))

    def stamp(self, start_days: int = 0, span_days: int = 300) -> str:
        moment = _SEED_EPOCH + dt.timedelta(
            days=start_days + self.rng.randrange(span_days), seconds=self.rng.randrange(86400)
        )
        return moment.strftime(DATETIME_FORMAT)

    def run(self) -> None:
        extra = self.faker_users()
        self.store.faker_mailboxes = [u.email1 for u in extra]  # in seed order: the bulk targets of large presets
        users = list(FIXED_USERS) + extra
        if self.preset.accepts_any_login:
            users.append(SeedUser(DUMMY_USER, "Guest", "User", "guest@example.com"))
        for seed_user in users:
            self.add_user(seed_user)
        self.apply_overrides()
        roles = dict(ROLES)
        for number in range(1, self.preset.extra_full_roles + 1):
            roles[f"Team {number:02d}"] = ("A sales team with every right.", ROLES["Sales"][1])
        role_ids = {name: self.add_role(name, desc, self.rights_of(name, rights)) for name, (desc, rights) in roles.items()}
        for seed_user in users:
            for role in seed_user.roles:
                self.store._insert(
                    "acl_roles_users",
                    {"id": self.new_id(), "role_id": role_ids[role], "user_id": self.user_ids[seed_user.user_name]},
                )
        owners = [self.user_ids[u] for u in RECORD_OWNERS]
        owners += [self.user_ids[u.user_name] for u in users[len(FIXED_USERS):][:4] if u.status == "Active"]
        for model in RECORD_MODELS:
            for index in range(RECORDS_PER_MODEL):
                self.add_record(model, owners[index % len(owners)])

    def faker_users(self) -> list[SeedUser]:
        taken = {u.user_name for u in FIXED_USERS}
        result = []
        teams = [f"Team {n:02d}" for n in range(1, self.preset.extra_full_roles + 1)]
        while len(result) < self.preset.faker_users:
            first, last = self.fake.first_name(), self.fake.last_name()
            user_name = f"{first}.{last}".lower().replace("'", "").replace(" ", "")
            if user_name in taken:
                continue
            taken.add(user_name)
            email2 = f"{first[0]}.{last}@{self.fake.free_email_domain()}".lower() if self.rng.random() < 0.3 else None
            role = teams[len(result) % len(teams)] if teams else self.rng.choice(["Sales", "Sales", "Support", "Read only", None])
            result.append(
                SeedUser(
                    user_name,
                    first,
                    last,
                    f"{user_name}@example.com",
                    email2=email2,
                    roles=(role,) if role else (),
                )
            )
        return result

    def add_user(self, seed_user: SeedUser) -> None:
        user_id = self.new_id()
        self.user_ids[seed_user.user_name] = user_id
        entered = self.stamp(span_days=30)
        creator = self.user_ids.get(ADMIN_USER, user_id)
        self.store._insert(
            USER_MODEL.table,
            {
                "id": user_id,
                "user_name": seed_user.user_name,
                "name": _full_name(seed_user.first_name, seed_user.last_name),
                "first_name": seed_user.first_name,
                "last_name": seed_user.last_name,
                "email1": seed_user.email1,
                "email2": seed_user.email2,
                "status": seed_user.status,
                "is_admin": seed_user.is_admin,
                "portal_only": seed_user.portal_only,
                "is_group": seed_user.is_group,
                "deleted": "0",
                "date_entered": entered,
                "date_modified": entered,
                "created_by": creator,
                "modified_user_id": creator,
            },
        )
        if seed_user.user_name == CONNECTION_USER:
            password = self.connection_password
        else:
            # Unknown passwords must still not depend on the process: draw them from the seeded rng.
            password = seed_user.password or f"unknown-{self.rng.getrandbits(64):x}"
        self.store._set_password(user_id, password, self.rng.getrandbits(64).to_bytes(8, "big"))

    def rights_of(self, role: str, rights: dict[str, dict[str, int]]) -> dict[str, dict[str, int]]:
        """The role's rights with the preset's changes applied (a copy: ROLES stays untouched)."""
        changed = {module: dict(actions) for module, actions in rights.items()}
        for module, actions in self.preset.role_overrides.get(role, {}).items():
            changed[module].update(actions)
        return changed

    def apply_overrides(self) -> None:
        if self.preset.password_expires_in_days is not None:
            expires = (dt.datetime.now(dt.UTC) + dt.timedelta(days=self.preset.password_expires_in_days)).date()
            self.store._db.execute(
                f"UPDATE {_quote(USER_MODEL.table)} SET password_expires = ? WHERE user_name = ?",
                (expires.isoformat(), CONNECTION_USER),
            )
        for user_name, changes in self.preset.user_overrides.items():
            for name, value in changes.items():
                if USER_MODEL.field(name) is None or name == "id":
                    raise ValueError(f"Preset {self.preset.name}: unknown user field {name!r}")
                self.store._db.execute(
                    f"UPDATE {_quote(USER_MODEL.table)} SET {_quote(name)} = ? WHERE user_name = ?",
                    (value, user_name),
                )

    def add_role(self, name: str, description: str, rights) -> str:
        role_id = self.new_id()
        stamp = self.stamp(span_days=10)
        self.store._insert(
            ACLROLE_MODEL.table,
            {"id": role_id, "name": name, "description": description, "deleted": "0",
             "date_entered": stamp, "date_modified": stamp},
        )
        for module, actions in rights.items():
            for action in ACL_ACTIONS:
                if action in actions:
                    self.store._insert(
                        "acl_role_actions",
                        {"id": self.new_id(), "role_id": role_id, "category": module,
                         "acltype": "module", "name": action, "aclaccess": actions[action]},
                    )
        return role_id

    def add_record(self, model: Model, owner_id: str) -> None:
        fake, rng = self.fake, self.rng
        entered = self.stamp(start_days=30)
        values: dict[str, Any] = {}
        if model.person:
            first, last = fake.first_name(), fake.last_name()
            values.update(
                first_name=first,
                last_name=last,
                name=_full_name(first, last),
                salutation=rng.choice(["Mr.", "Ms.", "Mrs.", "Dr.", None]),
                title=fake.job(),
                email1=f"{first}.{last}@{fake.domain_name()}".lower().replace("'", ""),
                phone_work=fake.phone_number(),
            )
        if model.name == "Lead":
            values.update(
                account_name=fake.company(),
                status=rng.choice(["New", "Assigned", "In Process", "Converted"]),
                lead_source=rng.choice(["Web Site", "Cold Call", "Trade Show", "Email"]),
            )
        elif model.name == "Account":
            values.update(
                name=fake.company(),
                industry=rng.choice(["Technology", "Retail", "Finance", "Manufacturing", "Healthcare"]),
                phone_office=fake.phone_number(),
                website=fake.url(),
                email1=fake.company_email(),
            )
        elif model.name in ("Meeting", "Call"):
            values.update(
                name=(f"Meeting: {fake.catch_phrase()}" if model.name == "Meeting" else f"Call with {fake.name()}"),
                date_start=self.stamp(start_days=60),
                duration=str(rng.choice([15, 30, 45, 60, 90])),
                status=rng.choice(["Planned", "Held", "Not Held"]),
            )
            if model.name == "Meeting":
                values["location"] = fake.city()
            else:
                values["direction"] = rng.choice(["Inbound", "Outbound"])
        elif model.name == "Task":
            values.update(
                name=fake.sentence(nb_words=4).rstrip("."),
                date_due=self.stamp(start_days=60),
                priority=rng.choice(["High", "Medium", "Low"]),
                status=rng.choice(["Not Started", "In Progress", "Completed"]),
            )
        elif model.name == "Note":
            values.update(name=fake.sentence(nb_words=5).rstrip("."))
        elif model.name == "Email":
            values.update(
                name=fake.sentence(nb_words=6).rstrip("."),
                date_start=self.stamp(start_days=30),
                from_addr=fake.company_email(),
                to_addrs=fake.company_email(),
                type="archived",
            )
        elif model.name == "Opportunity":
            values.update(
                name=f"{fake.company()} - {fake.word().capitalize()}",
                amount=f"{rng.randrange(1000, 200000)}.00",
                sales_stage=rng.choice(["Prospecting", "Qualification", "Proposal", "Negotiation", "Closed Won"]),
                probability=str(rng.choice([10, 25, 50, 75, 90])),
                date_closed=self.stamp(start_days=120)[:10],
            )
        elif model.name == "aCase":
            values.update(
                name=fake.sentence(nb_words=5).rstrip("."),
                status=rng.choice(["New", "Assigned", "Pending Input", "Closed"]),
                priority=rng.choice(["P1", "P2", "P3"]),
            )
        elif model.name == "Project":
            start = self.stamp(start_days=30)
            values.update(
                name=f"{fake.bs().title()}",
                date_start=start[:10],
                date_end=self.stamp(start_days=200)[:10],
                status=rng.choice(["Draft", "In Review", "Published"]),
            )
        values["description"] = fake.paragraph(nb_sentences=2)
        row = {f.name: None for f in model.stored_fields}
        row.update(values)
        row.update(
            id=self.new_id(),
            deleted="0",
            date_entered=entered,
            date_modified=entered,
            assigned_user_id=owner_id,
            created_by=owner_id,
            modified_user_id=owner_id,
        )
        self.store._insert(model.table, row)

