"""The web pages as a Flask blueprint: the login window, json.php sign-in, the pages behind it.

Minimal pages, but with the ids and titles a real 1CRM login window has; whatever
shared/reference/1crm-api.md labels [assumed] is marked ``# [assumed]``.
"""

from __future__ import annotations

import html
import secrets

from flask import Blueprint, Response, jsonify, redirect, request

from .auth import sign_in
from .context import ALL_METHODS, auth, preset, server, store
from .presets import LOGIN_MISSING, STALL_HOME, STALL_LOGIN, STALL_SECONDS

CSRF_COOKIE = "onecrm_csrf_token"  # [assumed] cookie name
CSRF_HEADER = "x-onecrm-csrf-token"
SESSION_COOKIE = "PHPSESSID"
HOME_REDIRECT = "index.php?module=Home&action=index"
RECAPTCHA_SITE_KEY = "6LeSimulatorHumanCheckSiteKey000000000000"  # not a real key

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
  var row = document.getElementById('error_row');
  var error = document.getElementById('error_message');
  function refuse(words) { error.textContent = words; row.style.display = ''; }
  form.addEventListener('submit', function (ev) {
    ev.preventDefault();
    row.style.display = 'none';
    error.textContent = '';
    var headers = {'Content-Type': 'application/json'};
    var csrf = cookie('onecrm_csrf_token');
    if (csrf) { headers['x-onecrm-csrf-token'] = csrf; }
    fetch('json.php?action=login', {
      method: 'POST',
      credentials: 'same-origin',
      headers: headers,
      body: JSON.stringify({
        username: document.getElementById('login_user').value,
        password: document.getElementById('login_pass').value,
        theme: document.getElementById('login_theme').value,
        language: document.getElementById('login_lang').value,
        login_module: 'Home',
        login_action: 'index',
        res_width: window.screen.width,
        res_height: window.screen.height,
        gmto: -new Date().getTimezoneOffset()
      })
    }).then(function (r) { return r.json(); })
      .then(function (reply) {
        if (reply.result === 'ok' && reply.redirect) {
          window.location = reply.redirect;
        } else {
          refuse(reply.message || 'Sign-in failed.');
        }
      })
      .catch(function () { refuse('The server did not answer.'); });
  });
})();
"""


def html_page(title: str, body: str, head: str = "") -> str:
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


def _login_page(human_check: bool, title: str) -> str:
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
<table><tr id="error_row" style="display:none"><td id="error_message" role="alert"></td></tr></table>
</form>
</div>
<script>{_LOGIN_SCRIPT}</script>"""
    return html_page(title, body, head)  # [source] refusals in #error_message inside #error_row, as info@hand's


NOT_FOUND_PAGE = (
    "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n"
    "</head><body>\n<h1>Not Found</h1>\n<p>The requested URL was not found on this server.</p>\n"
    "</body></html>\n"
)
IT_WORKS_PAGE = "<html><body><h1>It works!</h1></body></html>\n"


def html_response(text: str, status: int = 200) -> Response:
    return Response(text, status=status, mimetype="text/html")


# ----- web UI --------------------------------------------------------------------------------

bp = Blueprint("web", __name__)


def cookie_path() -> str:
    return request.script_root or "/"


def login_url() -> str:
    return f"{request.script_root}/login.php"


def login_page() -> Response:
    if preset.login_page == LOGIN_MISSING:
        return html_response(NOT_FOUND_PAGE, 404)
    response = html_response(_login_page(preset.human_check, preset.words("login_title")))
    if preset.csrf_cookie:  # [source] some servers set one; public logins succeed without it
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
    stopping = server().stopping  # the generator runs after the request, outside its context

    def chunks():
        yield body[:cut]
        stopping.wait(STALL_SECONDS)
        yield body[cut:]

    headers = [(k, v) for k, v in response.headers.items() if k.lower() != "content-length"]
    return Response(chunks(), status=response.status_code, headers=headers)


def web_user() -> dict | None:
    if preset.session_lost:
        return None  # the session store is broken: nothing survives between requests
    user_id = auth.session_user(request.cookies.get(SESSION_COOKIE))
    user = store.user(user_id) if user_id else None
    return user if user is not None and user["status"] == "Active" else None


@bp.route("/", methods=["GET", "HEAD"])
def root():
    return redirect(login_url(), 302)


@bp.route("/login.php", methods=["GET", "HEAD"])
def login_php():
    return stalled(login_page()) if preset.stall_page == STALL_LOGIN else login_page()


@bp.route("/recaptcha/api.js", methods=["GET", "HEAD"])
def human_check_script():
    return Response(_HUMAN_CHECK_SCRIPT, mimetype="text/javascript")


@bp.route("/index.php", methods=["GET", "HEAD"])
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
            # [source] info@hand prints "info@hand Version 7.1.3", 1CRM e.g. "1CRM 8.7.7" (1crm-api.md section 9)
            text += f" Version {preset.version}" if preset.product == "info@hand" else \
                f" {preset.version} {preset.edition_label}"
        return html_response(html_page(preset.words("about_title"),
                                       f'<h1>About</h1>\n<p id="version">{html.escape(text)}</p>\n{nav}'))
    if module in ("", "Home") and action in ("", "index"):
        if module == "":
            return redirect(f"{request.script_root}/{HOME_REDIRECT}", 302)
        home = html_response(html_page(preset.words("home_title"), f'<h1>{html.escape(preset.words("home"))}</h1>\n'
                                       f'<p id="welcome">Welcome, {name}</p>\n{nav}'))
        return stalled(home) if preset.stall_page == STALL_HOME else home
    title = html.escape(f"{preset.product}: {module} {action}".strip())
    return html_response(html_page(title, f"<h1>{html.escape(module)}</h1>\n{nav}"))


@bp.route("/json.php", methods=ALL_METHODS)
def json_php():
    if request.method != "POST":
        return jsonify({"message": f"Method {request.method} is not allowed here"}), 405
    if request.args.get("action") != "login":
        return jsonify({"message": "Unknown action"}), 400  # [assumed]
    header = request.headers.get(CSRF_HEADER)
    if preset.csrf_cookie and header is not None and not auth.csrf_valid(request.cookies.get(CSRF_COOKIE), header):
        return jsonify({"message": "Invalid CSRF token"}), 400  # [assumed] checked only when sent
    if preset.human_check:
        return jsonify({"message": "Please complete the human check."})  # [assumed] wording
    # [source] json.php reads a JSON body; [assumed] a form-encoded one reads as no user name at all
    body = request.get_json(silent=True) if request.is_json else None
    body = body if isinstance(body, dict) else {}
    user_name, password = body.get("username"), body.get("password")
    user = sign_in(store, preset, user_name, password) if isinstance(user_name, str) and isinstance(password, str) \
        else None
    if user is None:
        return jsonify({"message": preset.words("refused")})
    # session-lost: the cookie is sent, but the broken session store forgets it at once
    sid = secrets.token_hex(16) if preset.session_lost else auth.new_session(user["id"])
    response = jsonify({"result": "ok", "redirect": HOME_REDIRECT})
    response.set_cookie(SESSION_COOKIE, sid, path=cookie_path(), httponly=True,
                        secure=request.is_secure, samesite="Lax")
    return response
