"""The simulator's store: an in-memory SQLite database, seeded deterministically (seed.py).

One table per model (columns generated from the model definitions in schema.py), plus tables for
passwords (kept apart so that no query that serves records can ever read them), ACL roles,
role-user assignments, role actions and the audit log. One connection per Store, guarded by a
lock, so one Store can be shared by the server's worker threads and two Stores never share state.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import sqlite3
import threading
import uuid
from typing import Any, Iterable, Mapping

from .presets import Preset
from .schema import (
    ACLROLE_MODEL,
    DATE_FORMAT,
    DATETIME_FORMAT,
    DISPLAY,
    RECORD_MODELS,
    REFERENCE,
    SECURITYGROUP_MODEL,
    USER_MODEL,
    Field,
    Model,
    full_name,
    models_for,
    quote,
)
from .seed import CONNECTION_PASSWORD, _Seeder


class StoreError(Exception):
    """A request the store refuses; the app turns it into a JSON error."""

    def __init__(self, status: int, message: str, error: str = "invalid_request"):
        super().__init__(message)
        self.status = status
        self.message = message
        self.error = error



def now_text() -> str:
    return dt.datetime.now(dt.timezone.utc).strftime(DATETIME_FORMAT)


def _hash_password(password: str, salt: bytes) -> bytes:
    # A plain salted SHA-256 is enough for throw-away simulator passwords and keeps seeding fast.
    return hashlib.sha256(salt + password.encode("utf-8")).digest()



# --------------------------------------------------------------------------------------------
# The store
# --------------------------------------------------------------------------------------------


class Store:
    """Everything the simulated CRM knows. All public methods are thread-safe."""

    def __init__(self, preset: Preset, *, connection_password: str | None = None):
        self.preset = preset
        self.faker_mailboxes: list[str] = []  # filled by the seeder
        # info@hand's User has no is_group (1crm-api.md §6): served only where the preset exposes it
        hidden = {*preset.user_fields_hidden, *(() if preset.group_users_exposed else ("is_group",))}
        self.hidden_fields = {USER_MODEL.name: frozenset(hidden)}
        self.models = models_for(preset)  # the REST models of this server, with the preset's customisations
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
        for model in self.models.values():
            cols = ", ".join(
                f"{quote(f.name)} TEXT" + (" PRIMARY KEY" if f.name == "id" else "")
                for f in model.stored_fields
            )
            ddl.append(f"CREATE TABLE {quote(model.table)} ({cols})")
        ddl += [
            "CREATE TABLE user_secrets (user_id TEXT PRIMARY KEY, salt BLOB, hash BLOB)",
            "CREATE TABLE acl_roles_users (id TEXT PRIMARY KEY, role_id TEXT, user_id TEXT)",
            "CREATE TABLE securitygroups_users (id TEXT PRIMARY KEY, group_id TEXT, user_id TEXT)",
            "CREATE TABLE securitygroups_acl_roles (id TEXT PRIMARY KEY, group_id TEXT, role_id TEXT)",
            "CREATE TABLE acl_role_actions (id TEXT PRIMARY KEY, role_id TEXT, category TEXT,"
            " acltype TEXT, name TEXT, aclaccess INTEGER)",
            "CREATE TABLE audit_log (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT, model TEXT,"
            " parent_id TEXT, created_by TEXT, date_created TEXT, field_name TEXT, data_type TEXT,"
            " before_value_string TEXT, after_value_string TEXT)",
        ]
        for statement in ddl:
            self._db.execute(statement)

    def _insert(self, table: str, values: Mapping[str, Any]) -> None:
        cols = ", ".join(quote(c) for c in values)
        marks = ", ".join("?" for _ in values)
        self._db.execute(f"INSERT INTO {quote(table)} ({cols}) VALUES ({marks})", tuple(values.values()))

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
                f"SELECT * FROM {quote(USER_MODEL.table)} WHERE id = ? AND deleted = '0'", (user_id,)
            ).fetchone()
        return dict(row) if row else None

    def user_by_name(self, user_name: str) -> dict | None:
        with self._lock:
            row = self._db.execute(
                f"SELECT * FROM {quote(USER_MODEL.table)} WHERE user_name = ? AND deleted = '0'",
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
        rows = self._db.execute(f"SELECT id, user_name FROM {quote(USER_MODEL.table)}").fetchall()
        return {r["id"]: r["user_name"] for r in rows}

    # ----- records -----------------------------------------------------------------------------

    def _present(self, model: Model, row: Mapping[str, Any], fields: Iterable[str] | None, names) -> dict:
        wanted = model.field_names if fields is None else ["id", *[f for f in fields if f != "id"]]
        hidden = self.hidden_fields.get(model.name, ())
        record = {}
        for name in wanted:
            field = model.field(name)
            if name == DISPLAY and model.field("name"):
                record[name] = row["name"]
                continue
            if field is None or name in hidden:
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
            # filters match by prefix (1crm-api.md §3), ignoring letter case (MySQL's usual collation)
            where.append(f"{quote(name)} LIKE ? ESCAPE '\\'")
            params.append(value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%")
        if owner_id is not None:
            where.append("assigned_user_id = ?")
            params.append(owner_id)
        order_sql = self._order_sql(model, order)
        clause = " AND ".join(where)
        with self._lock:
            total = self._db.execute(
                f"SELECT COUNT(*) FROM {quote(model.table)} WHERE {clause}", params
            ).fetchone()[0]
            rows = self._db.execute(
                f"SELECT * FROM {quote(model.table)} WHERE {clause} ORDER BY {order_sql} LIMIT ? OFFSET ?",
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
        return f"{quote(name)} COLLATE NOCASE {direction}, id ASC"

    def _row(self, model: Model, record_id: str, *, include_deleted: bool = False):
        sql = f"SELECT * FROM {quote(model.table)} WHERE id = ?"
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
            if field is None:
                raise StoreError(400, f"Unknown field '{name}' for model {model.name}")  # [assumed]
            if not field.editable or not field.stored:
                continue  # [assumed] read-only fields are ignored, as Sugar does
            if value is None:
                clean[name] = None
            elif isinstance(value, bool):
                clean[name] = "1" if value else "0"
            elif isinstance(value, (str, int, float)):
                clean[name] = str(value)
            else:
                raise StoreError(400, f"Invalid value for field {name}")
        for name, value in clean.items():
            if value:
                self._check_value(model.field(name), value)
        return clean

    def _check_value(self, field: Field, value: str) -> None:
        """A value as the field's metadata advertises it: an enum's options, 1CRM's date formats, numbers,
        a record that exists. [assumed] the messages; 1CRM's own are not public."""
        problem = None
        if field.options and value not in field.values:
            problem = f"expected one of {', '.join(field.values)}"
        elif field.type in ("date", "datetime"):
            try:
                dt.datetime.strptime(value, DATE_FORMAT if field.type == "date" else DATETIME_FORMAT)
            except ValueError:
                problem = f"expected a {field.type} as {'Y-m-d' if field.type == 'date' else 'Y-m-d H:i:s'}"
        elif field.type in ("int", "currency"):
            try:
                int(value) if field.type == "int" else float(value)
            except ValueError:
                problem = "expected a number"
        elif field.type == REFERENCE and not self.exists(self.models[field.target], value):
            problem = f"no {field.target} record has this id"
        if problem:
            raise StoreError(400, f"Invalid value '{value}' for field '{field.name}': {problem}")

    @staticmethod
    def _complete(model: Model, values: dict[str, str | None]) -> None:
        """A create: defaults for what was left out, then every required field must have a value."""
        for field in model.fields:
            if field.default is not None and not values.get(field.name):
                values[field.name] = field.default
        missing = [f.name for f in model.fields if f.required and f.stored and not values.get(f.name)]
        if len(missing) == 1:
            raise StoreError(400, f"Field '{missing[0]}' is required")  # [assumed] wording
        if missing:
            raise StoreError(400, f"Fields {', '.join(repr(m) for m in missing)} are required")  # [assumed]

    def create(self, model: Model, data: Mapping[str, Any], actor_id: str) -> str:
        with self._lock:
            values = self._clean_data(model, data)
            # [assumed] a record created without assigned_user_id is assigned to the signed-in user
            if not values.get("assigned_user_id"):
                values["assigned_user_id"] = actor_id
            self._complete(model, values)
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
                row["name"] = full_name(row.get("first_name"), row.get("last_name"))
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
                values["name"] = full_name(first, last)
            for f in model.fields:
                if f.required and f.name in values and not values[f.name]:
                    raise StoreError(400, f"Field '{f.name}' is required")  # [assumed] wording
            stamp = now_text()
            values.update(date_modified=stamp, modified_user_id=actor_id)
            sets = ", ".join(f"{quote(k)} = ?" for k in values)
            self._db.execute(
                f"UPDATE {quote(model.table)} SET {sets} WHERE id = ?", [*values.values(), record_id]
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
                f"UPDATE {quote(model.table)} SET deleted = '1', date_modified = ?, modified_user_id = ?"
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

    # ----- for tests: what happened to the data -------------------------------------------------

    def snapshot(self) -> dict[tuple[str, str], dict]:
        """Every record row, deleted ones too, by (model, id), with what a change would alter."""
        rows = {}
        with self._lock:
            for model in RECORD_MODELS:
                query = (f"SELECT id, deleted, date_modified, modified_user_id, assigned_user_id "
                         f"FROM {quote(model.table)}")
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
                query = f"SELECT id FROM {quote(model.table)} WHERE deleted = '0' AND {quote(title)} LIKE ?"
                found += [(model.name, row[0]) for row in self._db.execute(query, (title_prefix + "%",))]
        return found

    def fields_of(self, model: Model):
        """The model's fields as this server exposes them."""
        hidden = self.hidden_fields.get(model.name, ())
        return tuple(f for f in model.fields if f.name not in hidden)

    def present(self, model: Model, rows: list[dict], fields: list[str] | None) -> list[dict]:
        """Related rows shown like a list: the fields asked for, else the given default set."""
        with self._lock:
            names = self._user_names()
        return [self._present(model, row, fields, names) for row in rows]

    def _joined(self, model: Model, link: str, key: str, other: str, value: str) -> list[dict]:
        """Rows of ``model`` linked through table ``link`` (columns ``key`` -> ``other``) to ``value``."""
        order = "user_name" if model is USER_MODEL else "name"
        with self._lock:
            rows = self._db.execute(
                f"SELECT m.* FROM {quote(model.table)} m JOIN {quote(link)} j ON j.{quote(other)} = m.id"
                f" WHERE j.{quote(key)} = ? AND m.deleted = '0' ORDER BY m.{quote(order)}",
                (value,),
            ).fetchall()
        return [dict(r) for r in rows]

    def roles_of_user(self, user_id: str) -> list[dict]:
        """The roles the user holds directly (link aclroles)."""
        return self._joined(ACLROLE_MODEL, "acl_roles_users", "user_id", "role_id", user_id)

    def users_of_role(self, role_id: str) -> list[dict]:
        return self._joined(USER_MODEL, "acl_roles_users", "role_id", "user_id", role_id)

    def users_of_team(self, team_id: str) -> list[dict]:
        return self._joined(USER_MODEL, "securitygroups_users", "group_id", "user_id", team_id)

    def roles_of_team(self, team_id: str) -> list[dict]:
        return self._joined(ACLROLE_MODEL, "securitygroups_acl_roles", "group_id", "role_id", team_id)

    def roles_held(self, user_id: str) -> list[str]:
        """Ids of the roles the user holds directly and through its teams (1crm-api.md §7)."""
        with self._lock:
            rows = self._db.execute(
                "SELECT role_id FROM acl_roles_users WHERE user_id = ?"
                " UNION SELECT gr.role_id FROM securitygroups_acl_roles gr"
                " JOIN securitygroups_users gu ON gu.group_id = gr.group_id"
                f" JOIN {quote(SECURITYGROUP_MODEL.table)} g ON g.id = gr.group_id AND g.deleted = '0'"
                " WHERE gu.user_id = ?",
                (user_id, user_id),
            ).fetchall()
        return [r[0] for r in rows]

    def actions_of_role(self, role_id: str) -> list[dict]:
        with self._lock:
            rows = self._db.execute(
                "SELECT id, category, acltype, name, aclaccess FROM acl_role_actions"
                " WHERE role_id = ? ORDER BY rowid",
                (role_id,),
            ).fetchall()
        return [dict(r) for r in rows]
