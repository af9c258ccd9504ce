"""Signing in as a real 1CRM answers: the token endpoint's refusals, the web login's JSON post and its refusals,
success in any language or brand, the About page's version forms, and no credential ever sent to another origin
(hostile servers on this machine that redirect the sign-in elsewhere and record what reaches them)."""

from __future__ import annotations

import json
import ssl
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import requests
import trustme
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from crm_simulator import Simulator
from readiness import access, browser
from readiness.client import TOKEN_PATH, CrmApi, OAuth2PasswordAuth, parse_reply
from readiness.config import Credentials, Secret, load_settings, parse_crm_address
from readiness.errors import AccessDenied, AuthenticationFailed, CredentialsRefused, RedirectRefused
from readiness.probes import sign_in_problem
from readiness.run import ReadinessRun
from readiness.server_info import detect, judge, parse_version
from readiness.weblogin import SignIn, parse_page, sign_in

PASSWORD = "Hostile-Test-Pass-5521"
CLIENT_SECRET = "Hostile-Client-Secret-5521"


def run_for(sim: Simulator, **overrides) -> ReadinessRun:
    return ReadinessRun(load_settings({**sim.env(), "READINESS_ENV_FILE": "none", **overrides}))


# -- the token endpoint's refusals, reply by reply ---------------------------------------------------------------------


def reply(status: int, body, path: str = TOKEN_PATH, *, content_type="application/json", sent: dict | None = None):
    response = requests.Response()
    response.status_code = status
    response._content = body if isinstance(body, bytes) else json.dumps(body).encode()
    response.headers["Content-Type"] = content_type
    response.request = requests.Request("POST", f"https://crm/api.php/{path}", json=sent or {}).prepare()
    response.url = response.request.url
    return response


@pytest.mark.parametrize("status, error", [(400, "invalid_grant"), (401, "invalid_credentials")])
def test_invalid_grant_and_invalid_credentials_both_mean_the_password_was_refused(status, error):
    # A client that knew only invalid_credentials told a 400 invalid_grant as "HTTP 400 for auth/...".
    body = {"error": error, "message": "The user credentials were incorrect."}
    with pytest.raises(CredentialsRefused, match=r"^the user name or password was refused \(The user credentials"):
        parse_reply(reply(status, body), TOKEN_PATH, client_id="riva")
    with pytest.raises(CredentialsRefused, match="the user name or password was refused"):
        parse_reply(reply(status, body, "me"), "me")


def test_a_bad_client_is_told_apart_from_a_bad_password():
    with pytest.raises(AuthenticationFailed, match="check CRM_CLIENT_ID and CRM_CLIENT_SECRET") as refused:
        parse_reply(reply(401, {"error": "invalid_client", "message": "Client authentication failed"}), TOKEN_PATH)
    assert not isinstance(refused.value, CredentialsRefused)


@pytest.mark.parametrize("error", ["unauthorized_client", "unsupported_grant_type"])
def test_a_grant_not_enabled_for_the_client_says_where_to_enable_it(error):
    with pytest.raises(AuthenticationFailed, match=r"enable the password grant for client riva-app in 1CRM's admin "
                                                   r"interface$") as refused:
        parse_reply(reply(400, {"error": error}), TOKEN_PATH, client_id="riva-app")
    assert not isinstance(refused.value, CredentialsRefused)


@pytest.mark.parametrize("status, body, content_type", [
    (400, {"error": "invalid_scope", "message": "The requested scope is invalid"}, "application/json"),
    (403, b"<html><body>Forbidden by mod_security</body></html>", "text/html"),
    (418, b"", "text/plain"),
])
def test_any_other_4xx_of_the_token_endpoint_is_a_refused_sign_in_with_an_excerpt(status, body, content_type):
    with pytest.raises(AuthenticationFailed, match=rf"^sign-in refused: the token endpoint answered HTTP {status}: "):
        parse_reply(reply(status, body, content_type=content_type), TOKEN_PATH, client_id="riva")


def test_the_excerpt_never_repeats_a_secret_the_request_sent():
    echoed = {"message": f"no such user with password {PASSWORD} and secret {CLIENT_SECRET}"}
    with pytest.raises(AuthenticationFailed) as refused:
        parse_reply(reply(400, echoed, sent={"password": PASSWORD, "client_secret": CLIENT_SECRET}), TOKEN_PATH)
    assert PASSWORD not in str(refused.value) and CLIENT_SECRET not in str(refused.value)
    assert "***" in str(refused.value)


class FakeSession:
    """Answers each request from a script of (status, JSON body) per path; records what was asked."""

    def __init__(self, answers: dict[str, Callable[[dict], tuple[int, dict]]]):
        self.answers = answers
        self.sent: list[tuple[str, dict]] = []

    def request(self, method, url, *, auth=None, json=None, allow_redirects=True, **kwargs):
        path = url.split("/api.php/", 1)[1]
        prepared = requests.Request(method, url, json=json).prepare()
        if auth is not None:
            prepared = auth(prepared)
        self.sent.append((path, json or {}))
        status, body = self.answers[path](json or {})
        response = reply(status, body, path)
        response.request, response.url = prepared, url
        return response


def token_reply(body: dict) -> tuple[int, dict]:
    if body["grant_type"] == "refresh_token":
        return 400, {"error": "invalid_grant", "message": "The refresh token is invalid."}
    return 200, {"access_token": "a.b.c", "refresh_token": "r-1", "expires_in": 3600}


def accepted_once():
    """/me accepts the first token once, then refuses every token (it expired, or was revoked)."""
    answers = iter([(200, {"id": "Users:1"})])
    return lambda body: next(answers, (401, {"message": "expired"}))


def test_a_refused_refresh_falls_back_to_one_password_grant_and_never_loops():
    grants = iter([(200, {"access_token": "a.b.c", "refresh_token": "r-1", "expires_in": 3600}),
                   (400, {"error": "invalid_grant"}), (400, {"error": "invalid_grant"})])
    session = FakeSession({TOKEN_PATH: lambda body: next(grants), "me": accepted_once()})
    api = CrmApi(session, "https://crm", username="riva_svc", password=PASSWORD, client_id="riva",
                 client_secret=CLIENT_SECRET)
    api.me()
    with pytest.raises(CredentialsRefused):
        api.me()
    assert [(path, body.get("grant_type")) for path, body in session.sent] == [
        (TOKEN_PATH, "password"), ("me", None), ("me", None), (TOKEN_PATH, "refresh_token"), (TOKEN_PATH, "password")]


def test_a_token_refused_by_every_call_is_renewed_once_not_once_per_call():
    """A fresh token that is refused too is not renewed again: every call signing in anew could lock the
    account out (an account lock-out policy counts sign-ins)."""
    session = FakeSession({TOKEN_PATH: token_reply, "me": accepted_once()})
    api = CrmApi(session, "https://crm", username="riva_svc", password=PASSWORD, client_id="riva",
                 client_secret=CLIENT_SECRET)
    api.me()
    for _ in range(3):
        with pytest.raises(AuthenticationFailed):
            api.me()
    grants = [body["grant_type"] for path, body in session.sent if path == TOKEN_PATH]
    # one renewal in all: the refresh token, refused, then one password grant; its token refused too
    assert grants == ["password", "refresh_token", "password"]
    assert isinstance(api.auth, OAuth2PasswordAuth) and [p for p, _ in session.sent].count("me") == 1 + 2 + 1 + 1


def test_a_fresh_token_refused_at_once_is_not_renewed():
    session = FakeSession({TOKEN_PATH: token_reply, "me": lambda body: (401, {"message": "token not valid"})})
    api = CrmApi(session, "https://crm", username="riva_svc", password=PASSWORD, client_id="riva",
                 client_secret=CLIENT_SECRET)
    with pytest.raises(AuthenticationFailed):
        api.me()
    assert [(path, body.get("grant_type")) for path, body in session.sent] == [(TOKEN_PATH, "password"), ("me", None)]


@pytest.mark.parametrize("status, path", [(401, "me"), (403, "me"), (401, "data/Contact")])
def test_basic_refused_or_disabled_says_basic_is_off_by_default(status, path):
    session = FakeSession({path: lambda body: (status, {"message": "Basic authentication is disabled"})})
    api = CrmApi(session, "https://crm", username="riva_svc", password=PASSWORD)
    with pytest.raises(AuthenticationFailed, match=r"^HTTP Basic sign-in is refused .*disabled, as it is by default "
                                                   r"in 1CRM — register an OAuth2 API client"):
        api._call("GET", path)


def test_basic_403_on_a_record_is_still_an_access_denial():
    session = FakeSession({"data/Meeting/1": lambda body: (403, {"message": "Access denied", "hint": "[Meetings:view]"})})
    with pytest.raises(AccessDenied):
        CrmApi(session, "https://crm", username="riva_svc", password=PASSWORD).read("Meeting", "1")


# -- against the simulator: R1.5, R1.6, R4.4 ------------------------------------------------------------------------


@pytest.mark.parametrize("preset, status", [("healthy", 400), ("old-oauth-errors", 401)])
def test_a_wrong_password_fails_r15_naming_the_account_and_r16_still_passes(preset, status):
    with Simulator(preset) as sim:
        run = run_for(sim, CRM_PASSWORD="not-the-password")
        r15 = access.api_sign_in(run.connection_api)
        r16 = access.unknown_user_refused(run.settings.crm, run.session(), run.api_as)
    assert not r15.passed and r15.verifiable
    assert r15.message.startswith("riva_svc cannot sign in to the REST API with OAuth2 password grant: the user name "
                                  "or password was refused")
    assert r16.passed and f"and by the REST API (HTTP {status})" in r16.message, r16.message


def test_a_password_grant_not_enabled_fails_r15_with_the_fix():
    with Simulator("password-grant-disabled") as sim:
        run = run_for(sim)
        r15 = access.api_sign_in(run.connection_api)
        r16 = access.unknown_user_refused(run.settings.crm, run.session(), run.api_as)
    assert not r15.passed
    assert r15.message.endswith(f"enable the password grant for client {sim.client_id} in 1CRM's admin interface")
    # the API refused the client before it looked at any user: only the web login shows the gate
    assert r16.passed and "refused the sign-in before looking at the user" in r16.message


def test_a_wrong_probe_password_names_the_account_and_its_variable():
    with Simulator("healthy") as sim:
        run = run_for(sim)
        api = run.api_as(Credentials("bob.baker", Secret("not-bobs-password")))
        assert sign_in_problem(api, "PROBE_BOB_BAKER_PASSWORD").startswith(
            "bob.baker cannot sign in with the password in PROBE_BOB_BAKER_PASSWORD: the user name or password was "
            "refused")
        bad_client = run_for(sim, CRM_CLIENT_SECRET="wrong").api_as(Credentials("bob.baker", Secret("x")))
        problem = sign_in_problem(bad_client, "PROBE_BOB_BAKER_PASSWORD")
    assert problem.startswith("bob.baker cannot sign in to the REST API with OAuth2 password grant: the OAuth2 API "
                              "client was refused")


# -- the web login ----------------------------------------------------------------------------------------------------


def login_posts(run: ReadinessRun) -> list:
    return [e for e in run.log.since(0) if e.method == "POST" and "json.php" in e.url]


def test_the_scripted_login_posts_json_and_no_csrf_header_without_a_csrf_cookie():
    with Simulator("healthy") as sim:  # refuses a form-encoded post, as json.php does
        run = run_for(sim)
        outcome = access.web_sign_in(run.settings.crm, run.session(), run.settings.connection_user)
    assert outcome.passed, outcome.message
    post = login_posts(run)[0]
    assert post.request_headers["Content-Type"] == "application/json"
    assert post.request_body["username"] == "riva_svc" and post.request_body["password"] == "***"
    assert "x-onecrm-csrf-token" not in {k.lower() for k in post.request_headers}


def test_the_csrf_cookie_is_echoed_in_the_header_where_the_server_sets_one():
    with Simulator("csrf-cookie") as sim:  # refuses a header that does not match its cookie
        run = run_for(sim)
        outcome = access.web_sign_in(run.settings.crm, run.session(), run.settings.connection_user)
    assert outcome.passed, outcome.message
    assert {k.lower(): v for k, v in login_posts(run)[0].request_headers.items()}["x-onecrm-csrf-token"] == "***"


@pytest.mark.parametrize("preset, title", [("localised", "1CRM: Startseite"), ("info-at-hand", "info@hand: Home Dashboard")])
def test_a_localised_or_info_at_hand_home_page_passes_r14(preset, title):
    with Simulator(preset) as sim:
        run = run_for(sim)
        outcome = access.web_sign_in(run.settings.crm, run.session(), run.settings.connection_user)
        refused = access.web_sign_in(run.settings.crm, run.session(), Credentials("riva_svc", Secret("wrong")))
    assert outcome.passed and outcome.message == (f"riva_svc signed in through the web login, reached '{title}' and "
                                                  "signed out")
    assert not refused.passed and refused.message.startswith("the web login refused riva_svc: '")


def test_success_is_the_home_module_with_a_session_not_a_title():
    judged = access.judge_web_sign_in
    assert judged(SignIn(True, "signed in", home_title="Startseite", signed_out=True, reached_home=True), "x").passed
    lost = judged(SignIn(True, "signed in", home_title="1CRM: Home Dashboard", signed_out=True), "x")
    assert not lost.passed and "the home page did not open" in lost.message


@pytest.mark.parametrize("page, words", [
    ('<table><tr id="error_row"><td id="error_message">You must specify a valid username and password.</td></tr>'
     '</table>', ("You must specify a valid username and password.",)),
    ('<div id="login_error" role="alert"><b>Wrong</b> password</div>', ("Wrong password",)),
    ('<p class="note error">Account locked</p><p class="error" style="display: none">hidden</p>', ("Account locked",)),
    ('<span class="error" hidden>not shown</span><div id="error_message"></div>', ()),
])
def test_refusals_are_read_from_the_pages_error_elements(page, words):
    assert parse_page("https://crm/login.php", 200, f"<html><body><form>{page}</form></body></html>").errors == words


def test_the_about_page_of_info_at_hand_gives_the_version_and_r21_passes():
    with Simulator("info-at-hand", faults=["html-error:scope=/api.php/version"]) as sim:
        run = run_for(sim)
        server = detect(run.settings.crm, run.connection_api, run.session(), run.settings.connection_user)
        run.close()
    assert (server.version, server.product, server.source) == ("7.1.3", "info@hand", "the About page")
    outcome = judge(server)
    assert outcome.passed and outcome.message.startswith("info@hand 7.1.3, on-premise (from the About page)")


@pytest.mark.parametrize("text, shown, product", [("info@hand Version 7.1.3", "7.1.3", "info@hand"),
                                                  ("1CRM 8.7.7", "8.7.7", "1CRM")])
def test_both_about_page_forms_are_parsed(text, shown, product):
    release = parse_version(text)
    assert (release.text, release.product) == (shown, product)


# -- hostile servers: credentials never leave CRM_URL's origin ----------------------------------------------------------


@dataclass
class Seen:
    method: str
    path: str
    headers: dict
    body: bytes

    def carries(self, *secrets: str) -> bool:
        text = f"{self.path} {self.headers} {self.body!r}"
        return any(secret in text for secret in secrets)


@dataclass
class Site:
    """A small web server on this machine: routes path -> (status, headers, body); records every request."""

    routes: dict[str, Callable[[], tuple[int, dict, bytes]]]
    url: str = ""
    seen: list[Seen] = field(default_factory=list)


@pytest.fixture
def sites(tmp_path):
    """sites(routes, tls=False) -> Site, served on 127.0.0.1 (https with a trustme certificate if tls)."""
    servers = []
    ca = trustme.CA()
    bundle = tmp_path / "ca.pem"
    ca.cert_pem.write_to_path(str(bundle))
    leaf = ca.issue_cert("127.0.0.1")

    def serve(routes, tls: bool = False) -> Site:
        site = Site(routes)

        class Handler(BaseHTTPRequestHandler):
            def answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                site.seen.append(Seen(self.command, self.path, dict(self.headers), self.rfile.read(length)))
                route = site.routes.get(self.path.split("?")[0])
                status, headers, body = route() if route else (404, {"Content-Type": "text/html"}, b"not here")
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_HEAD = answer

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            leaf.configure_cert(context)
            server.socket = context.wrap_socket(server.socket, server_side=True)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        site.url = f"{'https' if tls else 'http'}://127.0.0.1:{server.server_port}"
        return site

    serve.bundle = str(bundle)
    serve.der = x509.load_pem_x509_certificate(leaf.cert_chain_pems[0].bytes()).public_bytes(Encoding.DER)
    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


def redirect_to(site: Site, path: str, status: int):
    return lambda: (status, {"Location": f"{site.url}{path}"}, b"")


LOGIN_FORM = (b'<!DOCTYPE html><html><head><title>1CRM: Login</title></head><body><form id="login_form">'
              b'<input id="login_user" name="user_name"><input id="login_pass" name="user_password" type="password">'
              b'<button id="login_button">Log In</button><div id="login_error"></div></form></body></html>')


def page(body: bytes = LOGIN_FORM):
    return lambda: (200, {"Content-Type": "text/html; charset=utf-8"}, body)


def settings_for(crm: Site, sites, **more) -> ReadinessRun:
    env = {"CRM_URL": crm.url, "CRM_USERNAME": "riva_svc", "CRM_PASSWORD": PASSWORD, "CRM_CA_BUNDLE": sites.bundle,
           "READINESS_ENV_FILE": "none", "READINESS_BROWSER": "off", **more}
    return ReadinessRun(load_settings(env))


@pytest.mark.parametrize("status", [307, 308])
def test_a_redirected_token_request_sends_no_password_or_client_secret_elsewhere(sites, status):
    thief = sites({})
    crm = sites({f"/api.php/{TOKEN_PATH}": redirect_to(thief, "/steal", status),
                 "/api.php/version": lambda: (200, {"Content-Type": "application/json"}, b'{"version":"8.7.7"}')},
                tls=True)
    run = settings_for(crm, sites, CRM_CLIENT_ID="riva", CRM_CLIENT_SECRET=CLIENT_SECRET)
    outcome = access.api_sign_in(run.connection_api)
    assert thief.seen == []  # nothing at all reached the other origin
    assert not outcome.passed and (
        f"the token endpoint redirected (HTTP {status}) to {thief.url}/steal: credentials are not sent there") in \
        outcome.message
    with pytest.raises(RedirectRefused):
        run.connection_api.me()


def test_a_redirected_basic_call_sends_no_credentials_elsewhere(sites):
    thief = sites({})
    crm = sites({"/api.php/me": redirect_to(thief, "/api.php/me", 307),
                 "/api.php/version": lambda: (200, {"Content-Type": "application/json"}, b'{"version":"8.7.7"}')},
                tls=True)
    outcome = access.api_sign_in(settings_for(crm, sites).connection_api)
    assert thief.seen == []
    assert not outcome.passed and f"me redirected (HTTP 307) to {thief.url}/api.php/me" in outcome.message


@pytest.mark.parametrize("status", [307, 308])
def test_a_redirected_web_login_post_sends_no_password_elsewhere(sites, status):
    thief = sites({})
    crm = sites({"/login.php": page(), "/json.php": redirect_to(thief, "/json.php?action=login", status)}, tls=True)
    run = settings_for(crm, sites)
    outcome = access.web_sign_in(run.settings.crm, run.session(), run.settings.connection_user)
    assert thief.seen == []
    assert not outcome.passed and (f"json.php?action=login redirected (HTTP {status}) to {thief.url}/json.php?action="
                                   "login: credentials are not sent there") in outcome.message


def test_a_login_page_on_another_origin_gets_no_credentials_from_the_scripted_login(sites):
    thief = sites({"/login.php": page()})  # plain http, another port
    crm = sites({"/login.php": redirect_to(thief, "/login.php", 302)}, tls=True)
    run = settings_for(crm, sites)
    outcome = access.web_sign_in(run.settings.crm, run.session(), run.settings.connection_user)
    r13 = access.login_page(run.settings.crm, run.session())
    assert [s.method for s in thief.seen] == ["GET", "GET"]  # the page was looked at, nothing was posted
    assert not any(s.carries(PASSWORD) for s in thief.seen + crm.seen)
    assert not outcome.passed and f"the login page was sent to {thief.url}/login.php, another origin than CRM_URL " \
                                  f"(https://127.0.0.1:{crm.url.rsplit(':', 1)[1]})" in outcome.message
    assert not r13.passed and "another origin than CRM_URL" in r13.message


def test_a_login_reply_without_json_is_no_answer_and_a_rendered_refusal_is_read(sites):
    refusal = b'<html><body><table><tr id="error_row"><td id="error_message">Login failed</td></tr></table></body></html>'
    crm = sites({"/login.php": page(), "/json.php": lambda: (200, {"Content-Type": "text/html"}, b"")}, tls=True)
    run = settings_for(crm, sites)
    silent = sign_in(run.session(), run.settings.crm.base, "riva_svc", PASSWORD)
    crm.routes["/json.php"] = page(refusal)
    rendered = sign_in(run.session(), run.settings.crm.base, "riva_svc", PASSWORD)
    crm.routes["/json.php"] = lambda: (200, {"Content-Type": "application/json"}, b"{}")
    empty = sign_in(run.session(), run.settings.crm.base, "riva_svc", PASSWORD)
    assert silent.problem.startswith("json.php?action=login gave no answer to read: HTTP 200 (text/html)")
    assert not silent.accepted and access.judge_web_sign_in(silent, "riva_svc").message.startswith(
        "the web login gave no answer to judge when riva_svc signed in")
    assert rendered == SignIn(False, "Login failed")
    assert empty.problem and "neither result 'ok' nor a message" in empty.problem


def test_the_browser_types_nothing_on_another_origin(host_browser, sites):
    # The target page reports every key typed into it: it must never hear of the password.
    spy = LOGIN_FORM.replace(b"</body>", b"<script>document.getElementById('login_pass').addEventListener('input', "
                                         b"function () { fetch('/typed', {method: 'POST'}); });</script></body>")
    thief = sites({"/login.php": page(spy)})
    crm = sites({"/login.php": redirect_to(thief, "/login.php", 302)}, tls=True)
    seen = browser.sign_in_with_browser(host_browser, parse_crm_address(crm.url),
                                        Credentials("riva_svc", Secret(PASSWORD)), timeout=5, proxy=None,
                                        pin=browser.spki_pin(sites.der))
    assert seen.sign_in is None and seen.problem.startswith(f"the login page was sent to {thief.url}/login.php, another "
                                                             "origin than CRM_URL")
    assert [(s.method, s.path) for s in thief.seen if s.path != "/favicon.ico"] == [("GET", "/login.php")]
    assert not any(s.carries(PASSWORD) for s in thief.seen + crm.seen)
    outcome = browser.judge(seen, "riva_svc")
    assert not outcome.passed and outcome.message == seen.problem
    assert seen.screenshots == ()


def test_the_browser_passes_r14_on_a_localised_server(host_browser):
    with Simulator("localised") as sim:
        crm = parse_crm_address(sim.url)
        from readiness import tls

        der = tls.verified_certificate(crm, verify=sim.ca_bundle, proxy=None, timeout=5)
        seen = browser.sign_in_with_browser(host_browser, crm, Credentials("riva_svc", Secret(sim.password)), timeout=5,
                                            proxy=None, pin=browser.spki_pin(der))
        refused = browser.sign_in_with_browser(host_browser, crm, Credentials("riva_svc", Secret("wrong")), timeout=5,
                                               proxy=None, pin=browser.spki_pin(der))
    assert seen.sign_in == SignIn(True, "signed in", home_title="1CRM: Startseite", signed_out=True, reached_home=True)
    assert browser.judge(seen, "riva_svc").passed
    assert refused.sign_in == SignIn(False, "Sie müssen einen gültigen Benutzernamen und ein Passwort angeben.")


@pytest.mark.slow
@pytest.mark.parametrize("preset, home", [("localised", "1CRM: Startseite"), ("info-at-hand", "info@hand: Home Dashboard")])
def test_a_localised_or_info_at_hand_server_is_go(suite, preset, home):
    run = suite(preset)
    assert run.report["verdict"] == "GO", run.output
    assert f"reached '{home}' and signed out" in run.check("R1.4")["message"]


def test_a_home_page_on_another_origin_after_log_in_is_not_a_pass(host_browser, sites):
    thief = sites({"/index.php": page(b"<html><head><title>1CRM: Home Dashboard</title></head><body>Home</body></html>")})
    leave = (f"<script>document.getElementById('login_form').addEventListener('submit', function (ev) {{"
             f"ev.preventDefault(); window.location = '{thief.url}/index.php?module=Home&action=index'; }});</script>")
    crm = sites({"/login.php": page(LOGIN_FORM.replace(b"</body>", leave.encode() + b"</body>"))}, tls=True)
    seen = browser.sign_in_with_browser(host_browser, parse_crm_address(crm.url),
                                        Credentials("riva_svc", Secret(PASSWORD)), timeout=5, proxy=None,
                                        pin=browser.spki_pin(sites.der))
    assert seen.sign_in is None and seen.problem.startswith(
        f"after Log In, the browser was sent to {thief.url}/index.php?module=Home&action=index, another origin")
    assert not any(s.carries(PASSWORD) for s in thief.seen)
    assert not browser.judge(seen, "riva_svc").passed
