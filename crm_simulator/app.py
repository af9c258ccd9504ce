"""The simulated 1CRM as a Flask app: the REST API under /api.php and the web login pages.

Behaviour follows shared/reference/1crm-api.md. Whatever that page labels [assumed] is marked
``# [assumed]`` here too. Paths are relative to the base path (the WSGI mount in server.py strips
it into SCRIPT_NAME), so ``request.path`` is e.g. ``/api.php/data/User``.
"""

from __future__ import annotations

import base64
import binascii
import html
import secrets
import threading
import time
from dataclasses import dataclass, field
from typing import Any, NoReturn

from flask import Flask, Response, jsonify, redirect, request
from werkzeug.exceptions import HTTPException

from .auth import AuthState
from .presets import LOGIN_MISSING, LOGIN_NOT_1CRM, STALL_HOME, STALL_LOGIN, STALL_SECONDS, Preset
from .store import (
    ACL_ALL,
    ACL_OWNER,
    ACLROLE_MODEL,
    CONNECTION_USER,
    DUMMY_USER,
    MODELS,
    USER_MODEL,
    Model,
    Store,
    StoreError,
)

ALL_METHODS = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"]
DEFAULT_LIMIT, MAX_LIMIT = 20, 200
KNOWN_SCOPES = ("read", "write", "profile")
CSRF_COOKIE = "onecrm_csrf_token"  # [assumed] cookie name
CSRF_HEADER = "x-onecrm-csrf-token"
SESSION_COOKIE = "PHPSESSID"
HOME_REDIRECT = "index.php?module=Home&action=index"
RECAPTCHA_SITE_KEY = "6LeSimulatorHumanCheckSiteKey000000000000"  # not a real key


@dataclass
class ServerContext:
    """Everything one simulated server knows; one per Simulator."""

    preset: Preset
    store: Store
    auth: AuthState
    client_id: str | None  # None: no OAuth client registered
    client_secret: str | None
    stopping: threading.Event = field(default_factory=threading.Event)  # set when the simulator stops


class ApiError(Exception):
    def __init__(self, status: int, body: dict[str, Any]):
        super().__init__(body.get("message"))
        self.status = status
        self.body = body


def _fail(status: int, message: str, error: str | None = None, hint: str | None = None) -> NoReturn:
    body: dict[str, Any] = {"message": message}
    if error:
        body["error"] = error
    if hint:
        body["hint"] = hint
    raise ApiError(status, body)


def _deny(module: str, action: str) -> NoReturn:
    # [assumed] 403 body naming module and action, after Riva's "[Contacts:40] Access Denied"
    _fail(403, "Access denied", "access_denied", f"[{module}:{action}]")


# --------------------------------------------------------------------------------------------
# HTML pages (minimal, but with the ids and titles a real 1CRM login window has)
# --------------------------------------------------------------------------------------------

_LOGIN_SCRIPT = """
(function () {
  function cookie(name) {
    var m = document.cookie.match(new RegExp('(?:^|; )' + name + '=([^;]*)'));
    return m ? decodeURIComponent(m[1]) : '';
  }
  var form = document.getElementById('login_form');
  var error = document.getElementById('login_error');
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    error.textContent = '';
    var body = new URLSearchParams();
    body.set('username', document.getElementById('login_user').value);
    body.set('password', document.getElementById('login_pass').value);
    body.set('theme', document.getElementById('login_theme').value);
    body.set('language', 'en_us');
    body.set('login_module', 'Home');
    body.set('login_action', 'index');
    body.set('res_width', String(window.screen.width));
    body.set('res_height', String(window.screen.height));
    body.set('gmto', String(-new Date().getTimezoneOffset()));
    fetch('json.php?action=login', {
      method: 'POST',
      body: body,
      credentials: 'same-origin',
      headers: {'x-onecrm-csrf-token': cookie('onecrm_csrf_token')}
    }).then(function (r) { return r.json(); })
      .then(function (reply) {
        if (reply.result === 'ok' && reply.redirect) {
          window.location = reply.redirect;
        } else {
          error.textContent = reply.message || 'Sign-in failed.';
        }
      })
      .catch(function () { error.textContent = 'The server did not answer.'; });
  });
})();
"""


def _page(title: str, body: str, head: str = "") -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        f"<title>{html.escape(title)}</title>\n{head}</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


# Stands in for Google's reCAPTCHA script (served by the simulator itself, so that a browser driven against
# the simulator never reaches out of this machine): it draws the "I'm not a robot" box that no robot can tick.
_HUMAN_CHECK_SCRIPT = """
document.querySelectorAll('.g-recaptcha').forEach(function (box) {
  box.innerHTML = '<label style="display:inline-block;border:1px solid #ccc;padding:12px">' +
    '<input type="checkbox" disabled> I\\'m not a robot <small>reCAPTCHA</small></label>';
});
"""


def _login_page(human_check: bool) -> str:
    head, widget = "", ""
    if human_check:
        head = '<script src="recaptcha/api.js" async defer></script>\n'  # [assumed] Cloud loads Google's
        widget = f'<div class="g-recaptcha" data-sitekey="{RECAPTCHA_SITE_KEY}"></div>\n'
    body = f"""<div id="login_box">
<h1>1CRM</h1>
<form id="login_form" method="post" action="json.php?action=login">
<label for="login_user">User Name</label>
<input type="text" name="user_name" id="login_user" autocomplete="username">
<label for="login_pass">Password</label>
<input type="password" name="user_password" id="login_pass" autocomplete="current-password">
<label for="login_theme">Theme</label>
<select name="user_theme" id="login_theme"><option value="Sleek" selected>Sleek</option><option value="Classic">Classic</option></select>
<label for="login_lang">Language</label>
<select name="user_language" id="login_lang"><option value="en_us" selected>US English</option></select>
{widget}<button type="submit" id="login_button">Log In</button>
<div id="login_error" role="alert"></div>
</form>
</div>
<script>{_LOGIN_SCRIPT}</script>"""
    return _page("1CRM: Login", body, head)


_NOT_FOUND_PAGE = (
    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n"
    "</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n"
    "</body></html>\n"
)
_IT_WORKS_PAGE = "<html><body><h1>It works!</h1></body></html>\n"


def _html(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="text/html")


# --------------------------------------------------------------------------------------------
# The app
# --------------------------------------------------------------------------------------------


def create_app(ctx: ServerContext) -> Flask:
    app = Flask("crm_simulator")
    app.json.sort_keys = False  # keep 1CRM's key order
    app.config["PROPAGATE_EXCEPTIONS"] = False
    preset, store, auth = ctx.preset, ctx.store, ctx.auth

    def is_api() -> bool:
        return request.path == "/api.php" or request.path.startswith("/api.php/")

    def cookie_path() -> str:
        return request.script_root or "/"

    def login_url() -> str:
        return f"{request.script_root}/login.php"

    # ----- errors ------------------------------------------------------------------------------

    @app.errorhandler(ApiError)
    def api_error(e: ApiError):
        return jsonify(e.body), e.status

    @app.errorhandler(StoreError)
    def store_error(e: StoreError):
        return jsonify({"message": e.message, "error": e.error}), e.status

    @app.errorhandler(HTTPException)
    def http_error(e: HTTPException):
        if is_api() or request.path == "/json.php":
            error = (e.name or "error").lower().replace(" ", "_")
            return jsonify({"message": e.description or e.name, "error": error}), e.code
        if e.code == 404:
            return _html(_NOT_FOUND_PAGE, 404)
        return _html(_page(f"{e.code} {e.name}", f"<h1>{html.escape(e.name)}</h1>"), e.code or 500)

    @app.errorhandler(Exception)
    def unexpected(e: Exception):
        app.logger.exception("simulator error")  # visible in test output; never sent to the client
        if is_api() or request.path == "/json.php":
            return jsonify({"message": "Internal server error", "error": "server_error"}), 500
        return _html(_page("500 Internal Server Error", "<h1>Internal Server Error</h1>"), 500)

    # ----- server-wide gates -------------------------------------------------------------------

    @app.before_request
    def gates():
        if preset.login_page == LOGIN_NOT_1CRM:
            # A generic web server lives at this address: no 1CRM anywhere.
            if request.path in ("/", "/login.php"):
                return _html(_IT_WORKS_PAGE)
            return _html(_NOT_FOUND_PAGE, 404)
        if is_api():
            if not preset.api_available:
                # [assumed] body; 403 on every API call of a Startup edition is known
                return jsonify({"message": "The REST API is not available in this edition"}), 403
            if not request.is_secure and not preset.allow_non_tls_api:
                # [assumed] body; rejecting non-TLS API calls by default is known
                return jsonify({"error": "tls_required", "message": "API requests must use HTTPS"}), 403
        return None

    # ----- authentication ----------------------------------------------------------------------

    def sign_in(user_name: str, password: str) -> dict | None:
        user = store.check_credentials(user_name, password)
        if user is None and preset.accepts_any_login:
            user = store.user_by_name(DUMMY_USER)  # the broken server lets anybody in
        return user

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
                _fail(401, "The access token is invalid or has expired", "access_denied")
        elif scheme == "basic" and value:
            if not preset.basic_auth:
                if required:
                    _fail(401, "Basic authentication is disabled", "access_denied")  # [assumed]
                return None
            try:
                decoded = base64.b64decode(value, validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                decoded = ""
            user_name, _, password = decoded.partition(":")
            user = sign_in(user_name, password)
            if user is None and required:
                _fail(401, "Invalid user name or password", "access_denied")  # [assumed]
        elif required:
            _fail(401, "Authentication required", "access_denied")  # [assumed]
        return user

    # ----- ACL -------------------------------------------------------------------------------

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
            if action == "list" and user["user_name"] == CONNECTION_USER and not preset.connection_user_lists_users:
                _deny(model.module, action)
            if action in ("view", "list"):
                return None  # [assumed] every signed-in user may read users
            if not is_admin(user):
                _deny(model.module, action)
            _fail(405, "Model User is read-only in the simulator", "method_not_allowed")  # [assumed]
        if model is ACLROLE_MODEL:
            if not is_admin(user):
                _deny(model.module, action)  # [assumed] role data only for administrators
            if action not in ("view", "list"):
                _fail(405, "Model ACLRole is read-only in the simulator", "method_not_allowed")  # [assumed]
            return None
        if is_admin(user):
            return None  # administrators bypass the rights
        levels = store.acl_levels(user["id"], model.module, action)
        if levels is None:
            return None  # no role: unrestricted
        access, level = levels
        if access < 0:
            _deny(model.module, "access")  # module disabled for this user
        if level >= ACL_ALL:
            return None
        if level >= ACL_OWNER:
            return user["id"]
        _deny(model.module, action)

    def check_owner(user: dict, model: Model, record_id: str, action: str, owner: str | None) -> None:
        if owner is not None and store.owner_of(model, record_id) != owner:
            _deny(model.module, action)

    # ----- request helpers ---------------------------------------------------------------------

    def model_or_404(name: str) -> Model:
        model = MODELS.get(name)
        if model is None or (model is ACLROLE_MODEL and not preset.roles_readable):
            _fail(404, f"Model {name} not found")
        return model

    def record_or_404(model: Model, record_id: str) -> None:
        if not store.exists(model, record_id):
            _fail(404, f"Record {record_id} of model {model.name} not found", "not_found")  # [assumed]

    def int_arg(name: str, default: int) -> int:
        raw = request.args.get(name)
        if raw is None or raw == "":
            return default
        try:
            value = int(raw)
        except ValueError:
            _fail(400, f"Invalid value for {name}: {raw}", "invalid_request")
        if value < 0:
            _fail(400, f"Invalid value for {name}: {raw}", "invalid_request")
        return value

    def paging() -> tuple[int, int]:
        offset = int_arg("offset", 0)
        limit = int_arg("limit", DEFAULT_LIMIT) or DEFAULT_LIMIT  # [assumed] limit=0 means the default
        return offset, min(limit, MAX_LIMIT)  # larger limits are clamped, not refused

    def fields_arg() -> list[str] | None:
        return [f for f in request.args.getlist("fields[]") if f] or None

    def data_body() -> dict:
        body = request.get_json(silent=True)
        if not isinstance(body, dict) or not isinstance(body.get("data"), dict):
            _fail(400, 'The request body must be a JSON object with a "data" object', "invalid_request")  # [assumed]
        return body["data"]

    def allow(*methods: str) -> None:
        if request.method not in methods and not (request.method == "HEAD" and "GET" in methods):
            _fail(405, f"Method {request.method} is not allowed here", "method_not_allowed")

    def list_reply(records: list[dict]) -> Response:
        """Page an in-memory list the way the data lists are paged."""
        offset, limit = paging()
        return jsonify({"records": records[offset : offset + limit], "total_results": len(records)})

    # ----- REST API ----------------------------------------------------------------------------

    @app.route("/api.php/version", methods=ALL_METHODS)
    def version():
        allow("GET")
        if preset.version_hidden:
            return jsonify({"message": "Not found", "error": "not_found"}), 404  # [assumed]
        user = api_user(required=False)
        return jsonify(
            {"version": preset.version, "authenticated": user is not None, "products": preset.products}
        )

    @app.route("/api.php/auth/user/access_token", methods=ALL_METHODS)
    def access_token():
        allow("POST")
        body = request.get_json(silent=True) if request.is_json else None
        if not isinstance(body, dict):
            # The token endpoint takes JSON only (1crm-api.md §2); a form body is a bad request.
            _fail(400, "The request body must be JSON.", "invalid_request")  # [assumed] message
        invalid_request = (
            "The request is missing a required parameter, includes an invalid parameter value, "
            "includes a parameter more than once, or is otherwise malformed."
        )

        def param(name: str) -> str:
            value = body.get(name)
            if not isinstance(value, str) or not value:
                _fail(400, invalid_request, "invalid_request", f"Check the `{name}` parameter")  # [assumed]
            return value

        grant_type = param("grant_type")
        if grant_type not in ("password", "refresh_token"):
            _fail(400, "The authorization grant type is not supported by the authorization server.",
                  "unsupported_grant_type")  # [assumed] OAuth error bodies (1crm-api.md §2)
        client_id = param("client_id")
        client_secret = body.get("client_secret")
        if (
            ctx.client_id is None
            or not secrets.compare_digest(client_id.encode(), ctx.client_id.encode())
            or not isinstance(client_secret, str)
            or not secrets.compare_digest(client_secret.encode(), (ctx.client_secret or "").encode())
        ):
            _fail(401, "Client authentication failed", "invalid_client")  # [assumed]

        if grant_type == "password":
            user_name, password = param("username"), param("password")
            scope_text = body.get("scope") or " ".join(KNOWN_SCOPES)
            scopes = [s for s in str(scope_text).split() if s]
            unknown = [s for s in scopes if s not in KNOWN_SCOPES]
            if unknown:
                _fail(400, "The requested scope is invalid, unknown, or malformed", "invalid_scope",
                      f"Check the `{unknown[0]}` scope")  # [assumed] the known scope names
            user = sign_in(user_name, password)
            if user is None:
                _fail(401, "The user credentials were incorrect.", "invalid_credentials")  # [assumed]
            return jsonify(auth.issue_tokens(user["id"], client_id, scopes))

        refresh_token = param("refresh_token")
        grant = auth.use_refresh_token(refresh_token, client_id)
        if grant is None:
            _fail(400, "The refresh token is invalid.", "invalid_request")  # [assumed]
        user = store.user(grant.user_id)
        if user is None or user["status"] != "Active":
            _fail(401, "The user credentials were incorrect.", "invalid_credentials")  # [assumed]
        return jsonify(auth.issue_tokens(user["id"], client_id, grant.scopes))

    @app.route("/api.php/me", methods=ALL_METHODS)
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

    @app.before_request
    def slow_writes():
        if preset.write_delay and request.path.startswith("/api.php/data/") and request.method != "GET":
            time.sleep(preset.write_delay)

    @app.route("/api.php/data/<model_name>", methods=ALL_METHODS)
    def data_list(model_name: str):
        allow("GET", "POST")
        user = api_user()
        model = model_or_404(model_name)
        if request.method == "POST":
            owner = check_acl(user, model, "edit")
            data = data_body()
            if owner is not None and data.get("assigned_user_id") not in (None, "", owner):
                _deny(model.module, "edit")  # owner-only rights cannot create for someone else
            return jsonify({"id": store.create(model, data, user["id"])})
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

    @app.route("/api.php/data/<model_name>/<record_id>", methods=ALL_METHODS)
    def data_record(model_name: str, record_id: str):
        allow("GET", "PATCH", "PUT", "DELETE")
        user = api_user()
        model = model_or_404(model_name)
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

    @app.route("/api.php/data/<model_name>/<record_id>/<link>", methods=ALL_METHODS)
    def data_related(model_name: str, record_id: str, link: str):
        allow("GET")
        user = api_user()
        model = model_or_404(model_name)
        # [assumed] the role links of 1crm-api.md §5, for administrators only
        if model is USER_MODEL and link == "aclroles" and not preset.roles_readable:
            _fail(404, f"Link {link} not found for model {model.name}", "not_found")  # [assumed]
        if (model is USER_MODEL and link == "aclroles") or (
            model is ACLROLE_MODEL and link in ("users", "actions")
        ):
            if not is_admin(user):
                _deny(ACLROLE_MODEL.module, "view")
            record_or_404(model, record_id)
            if model is USER_MODEL:
                return list_reply(store.roles_of_user(record_id))
            if link == "users":
                return list_reply(store.users_of_role(record_id))
            return list_reply(store.actions_of_role(record_id))
        _fail(404, f"Link {link} not found for model {model.name}", "not_found")  # [assumed]

    @app.route("/api.php/meta/fields/<model_name>", methods=ALL_METHODS)
    def meta_fields(model_name: str):
        allow("GET")
        api_user()
        model = model_or_404(model_name)
        fields = {
            f.name: {"vname": f.label, "type": f.type, "required": f.required, "editable": f.editable}
            for f in model.fields
        }
        filters = {
            name: {"vname": model.field(name).label, "type": model.field(name).type} for name in model.filters
        }
        return jsonify({"fields": fields, "filters": filters})

    @app.route("/api.php/audit/<model_name>/<record_id>", methods=ALL_METHODS)
    def audit(model_name: str, record_id: str):
        allow("GET")
        user = api_user()
        model = model_or_404(model_name)
        owner = check_acl(user, model, "view")
        # [assumed] the audit trail of a deleted record stays readable
        if not store.exists(model, record_id, include_deleted=True):
            _fail(404, f"Record {record_id} of model {model.name} not found", "not_found")  # [assumed]
        if owner is not None and store.owner_of(model, record_id, include_deleted=True) != owner:
            _deny(model.module, "view")
        return list_reply(store.audit(model, record_id))

    @app.route("/api.php", methods=ALL_METHODS)
    @app.route("/api.php/", methods=ALL_METHODS)
    @app.route("/api.php/<path:rest>", methods=ALL_METHODS)
    def api_not_found(rest: str = ""):
        _fail(404, "Not found", "not_found")  # [assumed] body

    # ----- web UI ------------------------------------------------------------------------------

    def login_page() -> Response:
        if preset.login_page == LOGIN_MISSING:
            return _html(_NOT_FOUND_PAGE, 404)
        response = _html(_login_page(preset.human_check))
        response.set_cookie(
            CSRF_COOKIE,
            auth.new_csrf_token(),
            path=cookie_path(),
            secure=request.is_secure,
            httponly=False,  # the page's script must read it to echo it in the header
            samesite="Lax",
        )
        return response

    def stalled(response: Response) -> Response:
        """The page's first bytes at once, the rest after a bounded stall: a page that never finishes loading."""
        body = response.get_data()
        cut = body.index(b"<title>")

        def chunks():
            yield body[:cut]
            ctx.stopping.wait(STALL_SECONDS)
            yield body[cut:]

        headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
        return Response(chunks(), status=response.status_code, headers=headers)

    def web_user() -> dict | None:
        if preset.session_lost:
            return None  # the session store is broken: nothing survives between requests
        user_id = auth.session_user(request.cookies.get(SESSION_COOKIE))
        user = store.user(user_id) if user_id else None
        return user if user is not None and user["status"] == "Active" else None

    @app.route("/", methods=["GET", "HEAD"])
    def root():
        return redirect(login_url(), 302)

    @app.route("/login.php", methods=["GET", "HEAD"])
    def login_php():
        return stalled(login_page()) if preset.stall_page == STALL_LOGIN else login_page()

    @app.route("/recaptcha/api.js", methods=["GET", "HEAD"])
    def human_check_script():
        return Response(_HUMAN_CHECK_SCRIPT, mimetype="text/javascript")

    @app.route("/index.php", methods=["GET", "HEAD"])
    def index_php():
        module, action = request.args.get("module", ""), request.args.get("action", "")
        if module == "Users" and action == "Login":
            return login_page()
        if module == "Users" and action == "Logout":
            auth.end_session(request.cookies.get(SESSION_COOKIE))
            response = redirect(login_url(), 302)
            response.delete_cookie(SESSION_COOKIE, path=cookie_path())
            return response
        user = web_user()
        if user is None:
            return redirect(login_url(), 302)
        name = html.escape(user["name"] or user["user_name"])
        nav = ('<p><a href="index.php?module=Home&amp;action=About">About</a> | '
               '<a href="index.php?module=Users&amp;action=Logout">Log Out</a></p>')
        if module == "Home" and action == "About":
            text = preset.product
            if not preset.version_hidden:
                text += f" {preset.version} {preset.edition_label}"
            return _html(_page("1CRM: About", f'<h1>About</h1>\n<p id="version">{html.escape(text)}</p>\n{nav}'))
        if module in ("", "Home") and action in ("", "index"):
            if module == "":
                return redirect(f"{request.script_root}/{HOME_REDIRECT}", 302)
            home = _html(_page("1CRM: Home Dashboard",
                               f'<h1>Home Dashboard</h1>\n<p id="welcome">Welcome, {name}</p>\n{nav}'))
            return stalled(home) if preset.stall_page == STALL_HOME else home
        title = html.escape(f"1CRM: {module} {action}".strip())
        return _html(_page(title, f"<h1>{html.escape(module)}</h1>\n{nav}"))

    @app.route("/json.php", methods=ALL_METHODS)
    def json_php():
        if request.method != "POST":
            return jsonify({"message": f"Method {request.method} is not allowed here"}), 405
        if request.args.get("action") != "login":
            return jsonify({"message": "Unknown action"}), 400  # [assumed]
        if not auth.csrf_valid(request.cookies.get(CSRF_COOKIE), request.headers.get(CSRF_HEADER)):
            return jsonify({"message": "Invalid or missing CSRF token"}), 400  # [assumed]
        if preset.human_check:
            return jsonify({"message": "Please complete the human check."})  # [assumed] wording
        user = sign_in(request.form.get("username", ""), request.form.get("password", ""))
        if user is None:
            return jsonify({"message": "You must specify a valid username and password."})
        # session-lost: the cookie is sent, but the broken session store forgets it at once
        sid = secrets.token_hex(16) if preset.session_lost else auth.new_session(user["id"])
        response = jsonify({"result": "ok", "redirect": HOME_REDIRECT})
        response.set_cookie(SESSION_COOKIE, sid, path=cookie_path(), httponly=True,
                            secure=request.is_secure, samesite="Lax")
        return response

    return app
