"""The REST API under /api.php as a Flask blueprint: version, OAuth token endpoint, me, data, meta, audit.

Behaviour follows shared/reference/1crm-api.md; whatever it labels [assumed] is marked ``# [assumed]``.
Who may do what is decided in acl.py.
"""

from __future__ import annotations

import base64
import binascii
import re
import secrets
import time

from flask import Blueprint, Response, jsonify, request

from .acl import check_acl, check_owner, is_admin
from .auth import sign_in
from .context import ALL_METHODS, auth, deny, fail, preset, server, store
from .schema import (ACLROLE_MODEL, ACTION_FIELDS, FOLDER_MODEL, REFERENCE, RELATED_LIST_FIELDS,
                     SECURITYGROUP_MODEL, USER_MODEL, Model)
from .seed import CONNECTION_USER

DEFAULT_LIMIT, MAX_LIMIT = 20, 200
KNOWN_SCOPES = ("read", "write", "profile")

bp = Blueprint("api", __name__)

# ----- authentication -----------------------------------------------------------------------


def api_user(required: bool = True) -> dict | None:
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    scheme, value = scheme.lower(), value.strip()
    user = None
    if scheme == "bearer" and value:
        user_id = auth.user_for_token(value)
        user = store.user(user_id) if user_id else None
        if user is not None and user["status"] != "Active":
            user = None
        if user is None and required:
            # [assumed] body for a missing, bad or expired token
            fail(401, "The access token is invalid or has expired", "access_denied")
    elif scheme == "basic" and value:
        if not preset.basic_auth:
            if required:
                fail(401, "Basic authentication is disabled", "access_denied")  # [assumed]
            return None
        try:
            decoded = base64.b64decode(value, validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            decoded = ""
        user_name, _, password = decoded.partition(":")
        user = sign_in(store, preset, user_name, password)
        if user is None and required:
            fail(401, "Invalid user name or password", "access_denied")  # [assumed]
    elif required:
        fail(401, "Authentication required", "access_denied")  # [assumed]
    return user


# ----- request helpers -----------------------------------------------------------------------


def model_or_404(name: str) -> Model:
    model = store.models.get(name)
    if model is None or (model is ACLROLE_MODEL and not preset.roles_readable):
        fail(404, f"Model {name} not found")
    return model


def record_or_404(model: Model, record_id: str) -> None:
    if not store.exists(model, record_id):
        fail(404, f"Record {record_id} of model {model.name} not found", "not_found")  # [assumed]


def int_arg(name: str, default: int) -> int:
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        fail(400, f"Invalid value for {name}: {raw}", "invalid_request")
    if value < 0:
        fail(400, f"Invalid value for {name}: {raw}", "invalid_request")
    return value


def paging() -> tuple[int, int]:
    offset = int_arg("offset", 0)
    limit = int_arg("limit", DEFAULT_LIMIT) or DEFAULT_LIMIT  # [assumed] limit=0 means the default
    return offset, min(limit, MAX_LIMIT)  # larger limits are clamped, not refused


_FIELDS_KEY = re.compile(r"^fields\[(\d*)\]$")


def fields_arg() -> list[str] | None:
    """fields[]=a&fields[]=b or fields[0]=a&fields[1]=b: PHP reads both alike (1crm-api.md §3)."""
    keyed = []
    for key in request.args:
        found = _FIELDS_KEY.match(key)
        if found:
            keyed += [(int(found[1]) if found[1] else -1, value) for value in request.args.getlist(key)]
    return [value for _, value in sorted(keyed, key=lambda kv: kv[0]) if value] or None


def data_body() -> dict:
    body = request.get_json(silent=True)
    if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
        fail(400, 'The request body must be a JSON object with a "data" object', "invalid_request")  # [assumed]
    return body["data"]


def allow(*methods: str) -> None:
    if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
        fail(405, f"Method {request.method} is not allowed here", "method_not_allowed")


def list_reply(records: list[dict]) -> Response:
    """Page an in-memory list the way the data lists are paged."""
    offset, limit = paging()
    return jsonify({"records": records[offset : offset + limit], "total_results": len(records)})


# ----- routes --------------------------------------------------------------------------------


@bp.route("/api.php/version", methods=ALL_METHODS)
def version():
    allow("GET")
    if preset.version_hidden:
        return jsonify({"message": "Not found", "error": "not_found"}), 404  # [assumed]
    user = api_user(required=False)
    return jsonify(
        {"version": preset.version, "authenticated": user is not None, "products": preset.products}
    )


@bp.route("/api.php/auth/user/access_token", methods=ALL_METHODS)
def access_token():
    allow("POST")
    body = request.get_json(silent=True) if request.is_json else None
    if not isinstance(body, dict):
        # The token endpoint takes JSON only (1crm-api.md §2); a form body is a bad request.
        fail(400, "The request body must be JSON.", "invalid_request")  # [assumed] message
    invalid_request = (
        "The request is missing a required parameter, includes an invalid parameter value, "
        "includes a parameter more than once, or is otherwise malformed."
    )

    def param(name: str) -> str:
        value = body.get(name)
        if not isinstance(value, str) or not value:
            fail(400, invalid_request, "invalid_request", f"Check the `{name}` parameter")  # [assumed]
        return value

    grant_type = param("grant_type")
    if grant_type not in ("password", "refresh_token"):
        fail(400, "The authorization grant type is not supported by the authorization server.",
              "unsupported_grant_type")  # [assumed] OAuth error bodies (1crm-api.md §2)
    client_id = param("client_id")
    client_secret = body.get("client_secret")
    if (
        server().client_id is None
        or not secrets.compare_digest(client_id.encode(), server().client_id.encode())
        or not isinstance(client_secret, str)
        or not secrets.compare_digest(client_secret.encode(), (server().client_secret or "").encode())
    ):
        fail(401, "Client authentication failed", "invalid_client")  # [assumed]

    if grant_type == "password":
        if not preset.password_grant:
            fail(400, "The client is not authorized to request an access token using this method.",
                 "unauthorized_client")  # [assumed] RFC 6749 section 5.2, 1crm-api.md section 2
        user_name, password = param("username"), param("password")
        scope_text = body.get("scope") or " ".join(KNOWN_SCOPES)
        scopes = [s for s in str(scope_text).split() if s]
        unknown = [s for s in scopes if s not in KNOWN_SCOPES]
        if unknown:
            fail(400, "The requested scope is invalid, unknown, or malformed", "invalid_scope",
                  f"Check the `{unknown[0]}` scope")  # [assumed] the known scope names
        user = sign_in(store, preset, user_name, password)
        if user is None:
            # [assumed] 400 invalid_grant (current PHP OAuth 2 servers) or 401 invalid_credentials (older ones)
            status = 401 if preset.wrong_password_error == "invalid_credentials" else 400
            fail(status, "The user credentials were incorrect.", preset.wrong_password_error)
        return jsonify(auth.issue_tokens(user["id"], client_id, scopes))

    refresh_token = param("refresh_token")
    grant = auth.use_refresh_token(refresh_token, client_id)
    if grant is None:
        fail(400, "The refresh token is invalid.", "invalid_request")  # [assumed]
    user = store.user(grant.user_id)
    if user is None or user["status"] != "Active":
        fail(401, "The user credentials were incorrect.", "invalid_credentials")  # [assumed]
    return jsonify(auth.issue_tokens(user["id"], client_id, grant.scopes))


@bp.route("/api.php/me", methods=ALL_METHODS)
def me():
    allow("GET")
    user = api_user()
    return jsonify(
        {
            "id": f"Users:{user['id']}",
            "name": user["name"],
            "first_name": user["first_name"],
            "last_name": user["last_name"],
            "role": "user",
            "groups": [],
            "email": user["email1"],
        }
    )


@bp.before_app_request
def slow_writes():
    if preset.write_delay and request.path.startswith("/api.php/data/") and request.method != "GET":
        time.sleep(preset.write_delay)


@bp.route("/api.php/data/<model_name>", methods=ALL_METHODS)
def data_list(model_name: str):
    allow("GET", "POST")
    user = api_user()
    model = model_or_404(model_name)
    if model is FOLDER_MODEL:
        return folders(user)
    if request.method == "POST":
        check_acl(user, model, "edit")
        return jsonify({"id": store.create(model, data_body(), user["id"])})
    if model is USER_MODEL and user["user_name"] == CONNECTION_USER and not preset.connection_user_lists_users:
        deny(model.module, "list")  # the preset's connection user lacks the right to list users
    owner = check_acl(user, model, "list")
    filters = {}
    for key in request.args:
        if key.startswith("filters[") and key.endswith("]"):
            filters[key[len("filters[") : -1]] = request.args.get(key, "")
    offset, limit = paging()
    records, total = store.list(
        model,
        fields=fields_arg(),
        filters=filters,
        order=request.args.get("order") or None,
        offset=offset,
        limit=limit,
        owner_id=owner,
    )
    return jsonify({"records": records, "total_results": total})


def folders(user: dict) -> Response:
    """[assumed] a user lists only their own e-mail folders; folders are read-only over the API."""
    allow("GET")
    offset, limit = paging()
    records, total = store.list(FOLDER_MODEL, fields=fields_arg(), offset=offset, limit=limit, owner_id=user["id"])
    return jsonify({"records": records, "total_results": total})


@bp.route("/api.php/data/<model_name>/<record_id>", methods=ALL_METHODS)
def data_record(model_name: str, record_id: str):
    allow("GET", "PATCH", "PUT", "DELETE")
    user = api_user()
    model = model_or_404(model_name)
    if model is FOLDER_MODEL:
        allow("GET")  # [assumed] read-only
    action = {"GET": "view", "HEAD": "view", "PATCH": "edit", "PUT": "edit", "DELETE": "delete"}[request.method]
    owner = check_acl(user, model, action)
    record_or_404(model, record_id)
    check_owner(user, model, record_id, action, owner)
    if action == "view":
        return jsonify({"record": store.read(model, record_id, fields_arg())})
    if action == "edit":
        # PUT is treated like PATCH: only the fields sent change [assumed]
        store.update(model, record_id, data_body(), user["id"])
        return jsonify({"result": True})
    store.delete(model, record_id, user["id"])
    return jsonify({"result": True})


@bp.route("/api.php/data/<model_name>/<record_id>/<link>", methods=ALL_METHODS)
def data_related(model_name: str, record_id: str, link: str):
    allow("GET")
    user = api_user()
    model = model_or_404(model_name)
    # [assumed] the role and team links of 1crm-api.md §7, for administrators only
    if model is USER_MODEL and link == "aclroles" and not preset.roles_readable:
        fail(404, f"Link {link} not found for model {model.name}", "not_found")  # [assumed]
    default = RELATED_LIST_FIELDS.get((model.name, link))
    if default is None:
        fail(404, f"Link {link} not found for model {model.name}", "not_found")  # [assumed]
    if not is_admin(user):
        deny(ACLROLE_MODEL.module if model is USER_MODEL else model.module, "view")
    record_or_404(model, record_id)
    fields = fields_arg() or list(default)  # a related list without fields[] gets the default set only
    if link == "actions":
        actions = [] if preset.role_actions_empty else store.actions_of_role(record_id)
        wanted = ["id", *[f for f in fields if f != "id" and f in ACTION_FIELDS]]
        return list_reply([{f: a[f] for f in wanted} for a in actions])
    rows, shown = {
        (USER_MODEL, "aclroles"): (store.roles_of_user, ACLROLE_MODEL),
        (ACLROLE_MODEL, "users"): (store.users_of_role, USER_MODEL),
        (SECURITYGROUP_MODEL, "aclroles"): (store.roles_of_team, ACLROLE_MODEL),
        (SECURITYGROUP_MODEL, "users"): (store.users_of_team, USER_MODEL),
    }[(model, link)]
    return list_reply(store.present(shown, rows(record_id), fields))


def field_meta(f) -> dict:
    """One field as /meta/fields describes it; default, options and bean_name only where they apply."""
    info = {"vname": f.label, "type": f.type, "required": f.required, "editable": f.editable}
    if f.default is not None:
        info["default"] = f.default
    if f.options:
        info["options"] = dict(f.options)
    if f.type == REFERENCE:
        info["bean_name"] = f.target  # [assumed] key name
    return info


@bp.route("/api.php/meta/fields/<model_name>", methods=ALL_METHODS)
def meta_fields(model_name: str):
    allow("GET")
    api_user()
    model = model_or_404(model_name)
    fields = {f.name: field_meta(f) for f in store.fields_of(model) if f.advertised}
    filters = {
        name: {"vname": model.field(name).label, "type": model.field(name).type} for name in model.filters
    }
    return jsonify({"fields": fields, "filters": filters})


@bp.route("/api.php/audit/<model_name>/<record_id>", methods=ALL_METHODS)
def audit(model_name: str, record_id: str):
    allow("GET")
    user = api_user()
    model = model_or_404(model_name)
    owner = check_acl(user, model, "view")
    # [assumed] the audit trail of a deleted record stays readable
    if not store.exists(model, record_id, include_deleted=True):
        fail(404, f"Record {record_id} of model {model.name} not found", "not_found")  # [assumed]
    if owner is not None and store.owner_of(model, record_id, include_deleted=True) != owner:
        deny(model.module, "view")
    return list_reply(store.audit(model, record_id))


@bp.route("/api.php", methods=ALL_METHODS)
@bp.route("/api.php/", methods=ALL_METHODS)
@bp.route("/api.php/<path:rest>", methods=ALL_METHODS)
def api_not_found(rest: str = ""):
    fail(404, "Not found", "not_found")  # [assumed] body

