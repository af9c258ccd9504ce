"""R1.4 in a real browser: finding the browser, its flags, the verdict on what it saw (no browser needed), and
real headless sign-ins against the simulator and small local pages (skipped without a browser, failed in CI)."""

from __future__ import annotations

import re
import select
import socket
import socketserver
import sys
import threading
import time
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from io import BytesIO
from pathlib import Path

import pytest
import trustme
from PIL import Image

from crm_simulator import Simulator
from readiness import browser, tls
from readiness.browser import Browser, BrowserSignIn, BrowserUnavailable, browser_flags, find_browser, judge, spki_pin
from readiness.config import BrowserSettings, Credentials, Secret, load_settings, parse_crm_address
from readiness.errors import ConfigError
from readiness.run import ReadinessRun
from readiness.weblogin import SignIn

PNG = b"\x89PNG\r\n\x1a\n"


def touch(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(b"")
    return path


# -- finding the browser ------------------------------------------------------------------------------------------


def test_configured_browser_and_driver_win(tmp_path):
    chromium, driver = touch(tmp_path / "opt/chromium"), touch(tmp_path / "opt/driver")
    found = find_browser(BrowserSettings("auto", chromium, driver), which=lambda name: None, environ={})
    assert found == Browser(chromium, driver) and not found.is_edge


def test_browser_on_path_with_its_driver_beside_it(tmp_path):
    chromium, driver = touch(tmp_path / "bin/google-chrome"), touch(tmp_path / "bin/chromedriver")
    on_path = {"google-chrome": str(chromium)}
    assert find_browser(BrowserSettings(), which=on_path.get, environ={}) == Browser(chromium, driver)


def test_windows_install_locations_of_chrome_and_edge(tmp_path):
    chrome = touch(tmp_path / "pf/Google/Chrome/Application/chrome.exe")
    driver = touch(tmp_path / "pf/Google/Chrome/Application/chromedriver.exe")
    assert find_browser(BrowserSettings(), which=lambda name: None,
                        environ={"PROGRAMFILES": str(tmp_path / "pf")}) == Browser(chrome, driver)
    edge = touch(tmp_path / "x86/Microsoft/Edge/Application/msedge.exe")
    edge_driver = touch(tmp_path / "drivers/msedgedriver.exe")
    found = find_browser(BrowserSettings(chromedriver=edge_driver), which=lambda name: None,
                         environ={"PROGRAMFILES(X86)": str(tmp_path / "x86")})
    assert found == Browser(edge, edge_driver) and found.is_edge


def test_no_browser_and_no_driver_say_where_they_were_looked_for(tmp_path):
    with pytest.raises(BrowserUnavailable, match=r"^no browser found at chromium, chromium-browser, google-chrome, "
                                                 r"google-chrome-stable, chrome on PATH \(nor READINESS_CHROMIUM\)$"):
        find_browser(BrowserSettings(), which=lambda name: None, environ={})
    chromium = touch(tmp_path / "chromium")
    with pytest.raises(BrowserUnavailable, match=r"no browser driver found at chromedriver on PATH nor beside"):
        find_browser(BrowserSettings(chromium=chromium), which=lambda name: None, environ={})
    gone = tmp_path / "gone" / "chrome.exe"
    with pytest.raises(BrowserUnavailable, match=r"^no browser found at .*chrome\.exe \(READINESS_CHROMIUM\)$"):
        find_browser(BrowserSettings(chromium=gone), which=lambda name: str(chromium), environ={})


def settings_from(environ: dict) -> object:
    return load_settings({"CRM_URL": "https://crm.example.com", "READINESS_ENV_FILE": "none", **environ})


def test_browser_settings_default_to_auto_and_are_validated(tmp_path):
    assert settings_from({}).browser == BrowserSettings("auto", None, None)
    chromium = touch(tmp_path / "chromium")
    chosen = settings_from({"READINESS_BROWSER": "Required", "READINESS_CHROMIUM": str(chromium)}).browser
    assert chosen == BrowserSettings("required", chromium, None)
    with pytest.raises(ConfigError, match=r"READINESS_BROWSER='sometimes' — use auto, required or off"):
        settings_from({"READINESS_BROWSER": "sometimes"})
    with pytest.raises(ConfigError, match=r"READINESS_CHROMEDRIVER: no such file '.*nowhere'"):
        settings_from({"READINESS_CHROMEDRIVER": str(tmp_path / "nowhere")})
    assert settings_from({"READINESS_BROWSER": "off", "READINESS_CHROMIUM": str(tmp_path / "nowhere")}).browser.mode == "off"


# -- how it is started -----------------------------------------------------------------------------------------------


def test_flags_headless_fresh_profile_and_only_the_crms_name_resolves_without_a_proxy(tmp_path):
    flags = browser_flags(tmp_path, crm_host="crm.example.com", proxy=None, pin=None)
    assert {"--headless=new", "--no-sandbox", "--no-first-run", f"--user-data-dir={tmp_path}", "--no-proxy-server",
            "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE crm.example.com"} <= set(flags)
    assert [f for f in flags if "PasswordLeakDetection" in f]  # the password never goes to a leak check
    assert not [f for f in flags if f.startswith("--ignore-certificate-errors")]  # never trust blindly


def test_flags_proxy_without_credentials_loopback_included(tmp_path):
    flags = browser_flags(tmp_path, crm_host="crm", proxy="http://proxy.example.com:3128", pin=None)
    assert "--proxy-server=http://proxy.example.com:3128" in flags and "--proxy-bypass-list=<-loopback>" in flags
    assert not [f for f in flags if f.startswith("--host-resolver-rules")]  # the proxy resolves names
    assert browser.proxy_address("http://user:pw@proxy:8080") == "http://proxy:8080"


def test_pin_is_the_sha256_of_the_servers_public_key(tmp_path):
    ca = trustme.CA()
    first, again, other = (ca.issue_cert("crm.example.com") for _ in range(3))
    pins = [spki_pin(_der(cert)) for cert in (first, again, other)]
    assert len(pins[0]) == 44 and pins[0].endswith("=")  # base64 of 32 bytes
    assert len(set(pins)) == 3  # one pin per key: every issued certificate has its own key
    flags = browser_flags(tmp_path, crm_host="crm", proxy=None, pin=pins[0])
    assert f"--ignore-certificate-errors-spki-list={pins[0]}" in flags


def _der(cert: trustme.LeafCert) -> bytes:
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding

    return x509.load_pem_x509_certificate(cert.cert_chain_pems[0].bytes()).public_bytes(Encoding.DER)


# -- the verdict on what the browser saw ------------------------------------------------------------------------------


LABEL = "headless chromium 156"


@pytest.mark.parametrize("seen, passed, advisory, message", [
    (SignIn(True, "signed in", home_title="1CRM: Home Dashboard", signed_out=True, reached_home=True), True, False,
     "riva_svc signed in through the web login in headless chromium 156, reached '1CRM: Home Dashboard' and signed out"),
    (SignIn(False, "You must specify a valid username and password."), False, False,
     "the web login refused riva_svc: 'You must specify a valid username and password.'"),
    (SignIn(False, "the login page shows a human-check widget", human_check=True), False, False,
     "the login page asks for a human check (CAPTCHA) before riva_svc can sign in: an unattended browser cannot pass it"),
    (SignIn(True, "signed in", home_title="1CRM: Login"), False, False,
     "riva_svc was signed in, but the home page did not open (page title '1CRM: Login')"),
    (SignIn(True, "signed in", home_title="1CRM: Home Dashboard", signed_out=False, reached_home=True), False, True,
     "riva_svc signed in, but signing out did not end the session"),
])
def test_judgement_of_a_sign_in(seen, passed, advisory, message):
    outcome = judge(BrowserSignIn(seen, browser=LABEL), "riva_svc")
    assert (outcome.passed, outcome.advisory) == (passed, advisory)
    assert outcome.message.startswith(message), outcome.message


def test_a_problem_before_any_sign_in_is_a_blocking_failure_in_its_own_words():
    outcome = judge(BrowserSignIn(None, "the login page (https://crm/login.php) did not finish loading within 5 s"), "x")
    assert not outcome.passed and not outcome.advisory and outcome.message.startswith("the login page (https://crm")


def test_browser_error_pages_in_words():
    tls_message = browser.describe_error_page("https://crm/login.php", "ERR_CERT_DATE_INVALID", "crm")
    assert tls_message.startswith("the browser refused the TLS certificate of crm (ERR_CERT_DATE_INVALID)")
    assert "R1.2" in tls_message
    assert browser.describe_error_page("https://crm/x", "ERR_CONNECTION_REFUSED", "crm") == (
        "the browser could not open https://crm/x (ERR_CONNECTION_REFUSED)")


# -- the fallback, without any browser ------------------------------------------------------------------------------


def run_against(sim: Simulator, **environ) -> ReadinessRun:
    return ReadinessRun(load_settings({**sim.env(), "READINESS_ENV_FILE": "none", **environ}))


@pytest.fixture
def no_browser_on_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path))
    for variable, _ in browser.WINDOWS_BROWSERS:
        monkeypatch.delenv(variable, raising=False)


def never_kept(name, png):
    raise AssertionError("no screenshot without a browser")


def test_without_a_browser_r14_signs_in_with_the_scripted_login_and_says_so(no_browser_on_path):
    with Simulator("healthy") as sim:
        run = run_against(sim)
        outcome = browser.web_sign_in(run.settings.crm, run.settings.connection_user, run.settings, run.session, never_kept)
    assert outcome.passed
    assert outcome.message.endswith("(no browser found at chromium, chromium-browser, google-chrome, "
                                    "google-chrome-stable, chrome on PATH (nor READINESS_CHROMIUM): signed in with a "
                                    "scripted web login instead)")


def test_without_a_browser_the_scripted_login_still_catches_a_wrong_password(no_browser_on_path):
    with Simulator("healthy", password="the-right-one") as sim:
        run = run_against(sim, CRM_PASSWORD="a-wrong-one")
        outcome = browser.web_sign_in(run.settings.crm, run.settings.connection_user, run.settings, run.session, never_kept)
    assert not outcome.passed
    assert "the web login refused riva_svc" in outcome.message and "tried to sign in with a scripted" in outcome.message


def test_required_browser_missing_is_an_error_with_the_reason(no_browser_on_path):
    with Simulator("healthy") as sim:
        run = run_against(sim, READINESS_BROWSER="required")
        with pytest.raises(BrowserUnavailable, match=r"READINESS_BROWSER=required, but no browser found at chromium"):
            browser.web_sign_in(run.settings.crm, run.settings.connection_user, run.settings, run.session, never_kept)
    assert sim.stats.requests == []  # no scripted sign-in behind the admin's back


def test_browser_off_uses_the_scripted_login_and_says_so():
    with Simulator("healthy") as sim:
        run = run_against(sim, READINESS_BROWSER="off")
        outcome = browser.web_sign_in(run.settings.crm, run.settings.connection_user, run.settings, run.session, never_kept)
    assert outcome.passed and outcome.message.endswith("(READINESS_BROWSER=off: a scripted web login)")


# -- in a real browser -------------------------------------------------------------------------------------------------


def sign_in(host_browser, sim: Simulator, password: str | None = None, *, timeout: float = 5, pin: bool = True):
    """What the browser sees signing in to the simulator, trusting the certificate as R1.4 does."""
    crm = parse_crm_address(sim.url)
    der = tls.verified_certificate(crm, verify=sim.ca_bundle, proxy=None, timeout=5) if sim.tls and pin else None
    user = Credentials("riva_svc", Secret(sim.password if password is None else password))
    return browser.sign_in_with_browser(host_browser, crm, user, timeout=timeout, proxy=None,
                                        pin=spki_pin(der) if der else None)


def shots(seen: BrowserSignIn) -> list[str]:
    assert all(png.startswith(PNG) for _, png in seen.screenshots)
    return [name for name, _ in seen.screenshots]


def test_healthy_sign_in_in_the_browser(host_browser):
    with Simulator("healthy") as sim:
        started = time.monotonic()
        seen = sign_in(host_browser, sim)
        elapsed = time.monotonic() - started
        assert sim.active_web_sessions() == 0  # signed out again
        posts = [r for r in sim.stats.requests if r[0] == "POST"]
    assert seen.problem is None and seen.sign_in == SignIn(True, "signed in", home_title="1CRM: Home Dashboard",
                                                           signed_out=True, reached_home=True)
    assert posts == [("POST", "/json.php", "action=login")]  # the page's own script signed in
    assert shots(seen) == ["R1.4 login form", "R1.4 home page"]
    assert seen.browser.startswith(f"headless {host_browser.name} ")
    assert judge(seen, "riva_svc").passed
    assert elapsed < 10


def test_each_screenshot_shows_the_pages_address_and_the_time_it_was_taken(host_browser):
    with Simulator("healthy") as sim:
        before = datetime.now(UTC).replace(microsecond=0)
        seen = sign_in(host_browser, sim)
        after = datetime.now(UTC)
    base = parse_crm_address(sim.url).base
    assert len(seen.captions) == len(seen.screenshots) == 2
    for (name, png), caption in zip(seen.screenshots, seen.captions):
        address, _, taken = caption.rpartition(" at ")
        assert address.startswith(base + "/"), caption
        assert before <= datetime.strptime(taken, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC) <= after, caption
        picture = Image.open(BytesIO(png)).convert("RGB")  # the caption's strip runs along the bottom
        corner = picture.getpixel((picture.width - 3, picture.height - 2))
        assert all(abs(a - b) <= 8 for a, b in zip(corner, (0xff, 0xf8, 0xc4))), (name, corner)
    assert sim.password not in " ".join(seen.captions)


def test_wrong_password_shows_the_pages_own_error_message(host_browser):
    with Simulator("healthy") as sim:
        seen = sign_in(host_browser, sim, password="not-the-password")
    assert seen.sign_in == SignIn(False, "You must specify a valid username and password.")
    assert shots(seen) == ["R1.4 login form", "R1.4 sign-in refused"]


def test_human_check_is_reported_without_trying_to_sign_in(host_browser):
    with Simulator("human-check") as sim:
        seen = sign_in(host_browser, sim)
        assert not [r for r in sim.stats.requests if r[0] == "POST"]
    assert seen.sign_in.human_check and shots(seen) == ["R1.4 login page with a human check"]
    assert "an unattended browser cannot pass it" in judge(seen, "riva_svc").message


def test_lost_session_lands_back_on_the_login_page(host_browser):
    with Simulator("session-lost") as sim:
        seen = sign_in(host_browser, sim)
    assert seen.sign_in == SignIn(True, "signed in", home_title="1CRM: Login")
    assert shots(seen) == ["R1.4 login form", "R1.4 page after sign-in"]


@pytest.mark.parametrize("preset, message", [
    ("login-page-hangs", r"^the login page \(https://localhost:\d+/1crm/login\.php\) did not finish loading within 3 s"),
    ("home-page-hangs", r"^the page the CRM opened after Log In did not finish loading within 3 s"),
])
def test_a_page_that_never_finishes_loading_meets_the_time_limit(host_browser, preset, message):
    with Simulator(preset) as sim:
        started = time.monotonic()
        seen = sign_in(host_browser, sim, timeout=3)  # room for the login page on a busy machine
        elapsed = time.monotonic() - started
    assert seen.sign_in is None
    assert re.search(message, seen.problem), seen.problem
    assert elapsed < 15  # the time limit (at most twice), plus starting and quitting the browser; the stall is 30 s


def test_a_certificate_the_suite_did_not_verify_is_refused_by_the_browser(host_browser):
    with Simulator("healthy") as sim:  # its CA is in no trust store: only the pin would let the browser in
        seen = sign_in(host_browser, sim, pin=False)
        assert sim.stats.requests == []
    assert seen.problem.startswith("the browser refused the TLS certificate of localhost (ERR_CERT_AUTHORITY_INVALID)")
    assert shots(seen) == ["R1.4 browser error page"]


def test_plain_http_needs_no_pin(host_browser):
    with Simulator("plain-http") as sim:
        seen = sign_in(host_browser, sim)
    assert seen.sign_in.signed_out and seen.sign_in.home_title == "1CRM: Home Dashboard"


def test_the_browser_is_always_quit(host_browser):
    with pytest.raises(RuntimeError, match="boom"):
        with browser.launch(host_browser, crm_host="localhost", timeout=5, proxy=None, pin=None) as driver:
            service, profile = driver.service, Path(driver.capabilities["chrome"]["userDataDir"])
            assert service.process.poll() is None and profile.is_dir()
            raise RuntimeError("boom")
    assert service.process is None or service.process.poll() is not None
    assert not profile.exists()


def test_a_browser_that_does_not_start_leaves_r14_to_the_scripted_login_and_says_why(host_browser):
    not_a_browser = {"READINESS_CHROMIUM": sys.executable, "READINESS_CHROMEDRIVER": str(host_browser.driver)}
    with Simulator("healthy") as sim:
        run = run_against(sim, **not_a_browser)
        outcome = browser.web_sign_in(run.settings.crm, run.settings.connection_user, run.settings, run.session, never_kept)
        assert outcome.passed and re.search(r"\(the browser .*python.* did not start with the driver .*chromedriver.*: "
                                            r"session not created: .*: signed in with a scripted web login instead\)$",
                                            outcome.message), outcome.message
        run = run_against(sim, READINESS_BROWSER="required", **not_a_browser)
        with pytest.raises(BrowserUnavailable, match=r"^READINESS_BROWSER=required, but the browser .* did not start"):
            browser.web_sign_in(run.settings.crm, run.settings.connection_user, run.settings, run.session, never_kept)


# -- pages that would show the password: a tiny local site ------------------------------------------------------------

UNMASKED = """<!DOCTYPE html><html><head><title>1CRM: Login</title></head><body><form id="login_form">
<input id="login_user"><input id="login_pass" type="text"><button id="login_button">Log In</button>
<div id="login_error"></div></form></body></html>"""

ECHOING = UNMASKED.replace('type="text"', 'type="password"') + """<script>
document.getElementById('login_form').addEventListener('submit', function (ev) {
  ev.preventDefault();
  document.getElementById('login_error').textContent = 'Wrong password: ' + document.getElementById('login_pass').value;
});</script>"""


@pytest.fixture
def site():
    """site(html) serves that page at /login.php on this machine (plain http), for the duration of the test."""
    servers = []

    def serve(page: str) -> str:
        class Page(BaseHTTPRequestHandler):
            def do_GET(self):
                body = page.encode() if self.path.startswith("/login.php") else b"not here"
                self.send_response(200 if self.path.startswith("/login.php") else 404)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Page)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_port}"

    yield serve
    for server in servers:
        server.shutdown()
        server.server_close()


SECRET = "Zebra-Password-31337"


def test_password_is_never_typed_into_a_field_that_shows_it(host_browser, site):
    crm = parse_crm_address(site(UNMASKED))
    seen = browser.sign_in_with_browser(host_browser, crm, Credentials("riva_svc", Secret(SECRET)), timeout=5,
                                        proxy=None, pin=None)
    assert "does not hide what is typed (type 'text'): the suite does not type the password there" in seen.problem
    assert seen.screenshots == ()


def test_a_page_that_shows_the_password_is_never_photographed(host_browser, site):
    crm = parse_crm_address(site(ECHOING))
    seen = browser.sign_in_with_browser(host_browser, crm, Credentials("riva_svc", Secret(SECRET)), timeout=5,
                                        proxy=None, pin=None)
    assert seen.sign_in.message == "Wrong password: ***"  # the page's words, without the password
    assert shots(seen) == ["R1.4 login form"]  # taken before the password was typed; none after


# -- through CRM_PROXY -------------------------------------------------------------------------------------------------


@pytest.fixture
def tunnel_proxy():
    """An HTTP CONNECT proxy on this machine (tunnels to this machine only) that records every tunnel asked for."""
    tunnels: list[str] = []

    class Tunnel(socketserver.BaseRequestHandler):
        def handle(self):
            head = b""
            while b"\r\n\r\n" not in head:
                chunk = self.request.recv(4096)
                if not chunk:
                    return
                head += chunk
            method, target = head.split(b" ", 2)[:2]
            tunnels.append(f"{method.decode()} {target.decode()}")
            host, _, port = target.decode().rpartition(":")
            if method != b"CONNECT" or host not in ("localhost", "127.0.0.1"):
                self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                return
            with socket.create_connection((host, int(port)), timeout=5) as upstream:
                self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                ends = {self.request: upstream, upstream: self.request}
                while (ready := select.select(list(ends), [], [], 5)[0]):
                    for end in ready:
                        data = end.recv(65536)
                        if not data:
                            return
                        ends[end].sendall(data)

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), Tunnel)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}", tunnels
    server.shutdown()
    server.server_close()


def test_r14_goes_through_crm_proxy_and_trusts_only_what_the_suite_verified(host_browser, tunnel_proxy):
    proxy, tunnels = tunnel_proxy
    kept = []
    with Simulator("healthy") as sim:
        run = run_against(sim, CRM_PROXY=proxy, READINESS_BROWSER="required",
                          READINESS_CHROMIUM=str(host_browser.binary), READINESS_CHROMEDRIVER=str(host_browser.driver))
        outcome = browser.web_sign_in(run.settings.crm, run.settings.connection_user, run.settings, run.session,
                                      lambda name, png: kept.append(name) or Path(f"{name}.png"))
    assert outcome.passed, outcome.message
    assert outcome.message.endswith("(screenshots: R1.4 login form.png, R1.4 home page.png)")
    assert kept == ["R1.4 login form", "R1.4 home page"]
    # the suite's own verified handshake, then the browser: both through the proxy
    assert tunnels.count(f"CONNECT localhost:{sim.port}") >= 2
    assert not [t for t in tunnels if "passwordsleakcheck" in t]  # the browser did not send the password anywhere


def test_a_proxy_that_needs_a_password_is_left_to_the_scripted_login(host_browser, tunnel_proxy):
    proxy, tunnels = tunnel_proxy
    with Simulator("healthy") as sim:
        run = run_against(sim, CRM_PROXY=proxy.replace("http://", "http://proxy-user:proxy-pw@"),
                          READINESS_CHROMIUM=str(host_browser.binary), READINESS_CHROMEDRIVER=str(host_browser.driver))
        outcome = browser.web_sign_in(run.settings.crm, run.settings.connection_user, run.settings, run.session, never_kept)
    assert outcome.passed and outcome.message.endswith(
        "(CRM_PROXY needs a user name and password, which a browser cannot be given on its command line: signed in "
        "with a scripted web login instead)")
    assert tunnels  # the scripted login went through the proxy
