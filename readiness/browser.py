"""R1.4 in a real browser: a headless Chrome, Chromium or Edge signs in as a person at the Riva host would.

Selenium drives the browser and driver this host already has (READINESS_CHROMIUM/READINESS_CHROMEDRIVER, else
PATH); the driver's path is always given, so Selenium Manager never runs and nothing is ever downloaded. Where no
browser can be used, R1.4 falls back to the scripted web login (weblogin.py) and says so, unless
READINESS_BROWSER=required. What the browser saw (BrowserSignIn) is judged by pure functions, unit-tested apart
from any browser.
"""

from __future__ import annotations

import base64
import hashlib
import os
import re
import shutil
import tempfile
import warnings
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import urllib3
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from selenium import webdriver
from selenium.common.exceptions import JavascriptException, TimeoutException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from . import access, tls
from .config import BrowserSettings, CrmAddress, Credentials, Settings
from .errors import ReadinessError
from .outcome import Outcome
from .summary_notes import SCRIPTED_INSTEAD
from .http import CrmSession
from .redaction import Redactor, url_for_evidence
from .weblogin import (ERROR_CLASS, ERROR_IDS, FORM_IDS, HOME_PAGE, HUMAN_CHECK, LOGIN_PAGES, LOGOUT_PAGE, SignIn, is_home,
                       off_origin, same_origin)

BROWSER_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable", "chrome")
# Where Windows installs Chrome and Edge (they are rarely on PATH there): (environment variable, path below it).
WINDOWS_BROWSERS = (
    ("PROGRAMFILES", "Google/Chrome/Application/chrome.exe"),
    ("PROGRAMFILES(X86)", "Google/Chrome/Application/chrome.exe"),
    ("LOCALAPPDATA", "Google/Chrome/Application/chrome.exe"),
    ("PROGRAMFILES(X86)", "Microsoft/Edge/Application/msedge.exe"),
    ("PROGRAMFILES", "Microsoft/Edge/Application/msedge.exe"),
)
# Browser features that would send what happens here elsewhere, the password leak check above all.
QUIET_FEATURES = ("PasswordLeakDetection", "AutofillServerCommunication", "NetworkTimeServiceQuerying",
                  "OptimizationHints", "Translate", "MediaRouter")
# The connection user's password is never saved, offered or leak-checked by the browser.
QUIET_PREFERENCES = {"credentials_enable_service": False, "profile.password_manager_enabled": False,
                     "profile.password_manager_leak_detection": False, "net.network_prediction_options": 2}
_SLACK = 10.0  # seconds the driver may take beyond the CRM time limit to report that limit itself
_MARK = "window.__rivaReadinessLoginPage"  # set on the login page: gone once the browser shows a new page
_ERROR_PAGE = re.compile(r"^[a-z]+-error://")  # chrome-error://, edge-error://: the browser's own error page
_NET_ERROR = re.compile(r"(?:net::|NET::)?(ERR_[A-Z0-9_]+)")
_CAPTION_ID = "__rivaReadinessCaption"
# A strip along the bottom of the window with the page's address and the time: on the picture itself, so it goes
# wherever the PNG goes (the Allure report, reports/screenshots); removed again right after the picture.
_SHOW_CAPTION = (
    f"var b = document.createElement('div'); b.id = {_CAPTION_ID!r}; b.textContent = arguments[0];"
    "b.setAttribute('style', 'position:fixed;left:0;right:0;bottom:0;z-index:2147483647;margin:0;padding:3px 8px;"
    "font:12px/1.4 monospace;background:#fff8c4;color:#000;border-top:1px solid #8a6d00;white-space:nowrap;"
    "overflow:hidden;text-overflow:ellipsis;pointer-events:none');"
    "(document.body || document.documentElement).appendChild(b);"
)
_HIDE_CAPTION = f"var b = document.getElementById({_CAPTION_ID!r}); if (b) {{ b.remove(); }}"
# The words of the first visible error element of the page (weblogin.ERROR_IDS, then .error), else ''.
_READ_ERROR = (
    "function shown(e) { return e && e.getClientRects().length ? (e.innerText || e.textContent || '').trim() : ''; }"
    f"var words = {' || '.join(f'shown(document.getElementById({i!r}))' for i in ERROR_IDS)};"
    f"var all = document.querySelectorAll('.{ERROR_CLASS}');"
    "for (var i = 0; i < all.length && !words; i++) { words = shown(all[i]); }"
)


class BrowserUnavailable(ReadinessError):
    """No browser can be used on this host (none found, no driver, it does not start)."""


# -- finding the browser -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Browser:
    binary: Path
    driver: Path

    @property
    def is_edge(self) -> bool:
        return self.driver.name.lower().startswith("msedgedriver")

    @property
    def name(self) -> str:
        return self.binary.stem


def find_browser(choice: BrowserSettings, *, which: Callable[[str], str | None] = shutil.which,
                 environ: Mapping[str, str] = os.environ) -> Browser:
    """The configured browser and driver, else the first on PATH (or, on Windows, where Chrome and Edge install)."""
    if choice.chromium:
        binary = _first([choice.chromium])
        where = f"{choice.chromium} (READINESS_CHROMIUM)"
    else:
        binary = _first(which(name) for name in BROWSER_NAMES) or _first(
            Path(environ[var]) / below for var, below in WINDOWS_BROWSERS if environ.get(var))
        where = f"{', '.join(BROWSER_NAMES)} on PATH (nor READINESS_CHROMIUM)"
    if binary is None:
        raise BrowserUnavailable(f"no browser found at {where}")
    driver_name = "msedgedriver" if binary.stem.lower() == "msedge" else "chromedriver"
    if choice.chromedriver:
        driver = _first([choice.chromedriver])
        where = f"{choice.chromedriver} (READINESS_CHROMEDRIVER)"
    else:
        driver = _first([binary.with_name(driver_name + binary.suffix), which(driver_name)])
        where = f"{driver_name} on PATH nor beside {binary} (nor READINESS_CHROMEDRIVER)"
    if driver is None:
        raise BrowserUnavailable(f"no browser driver found at {where}")
    return Browser(binary, driver)


def _first(candidates) -> Path | None:
    return next((Path(c) for c in candidates if c and Path(c).is_file()), None)


# -- starting it ---------------------------------------------------------------------------------------------------


def spki_pin(certificate_der: bytes) -> str:
    """base64 of the SHA-256 of the certificate's public key (SPKI): Chromium's certificate pin format."""
    key = x509.load_der_x509_certificate(certificate_der).public_key()
    return base64.b64encode(hashlib.sha256(key.public_bytes(Encoding.DER, PublicFormat.SubjectPublicKeyInfo)).digest()).decode()


def browser_flags(profile: Path, *, crm_host: str, proxy: str | None, pin: str | None) -> list[str]:
    flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
             "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run",
             "--no-default-browser-check", "--disable-extensions", "--no-pings", "--password-store=basic",
             "--use-mock-keychain", f"--disable-features={','.join(QUIET_FEATURES)}", f"--user-data-dir={profile}",
             "--window-size=1280,800"]
    if proxy:
        # <-loopback>: even a CRM on this machine goes through CRM_PROXY, as the suite's requests do. The proxy
        # then decides what else the browser reaches.
        flags += [f"--proxy-server={proxy_address(proxy)}", "--proxy-bypass-list=<-loopback>"]
    else:
        # Only CRM_PROXY decides, as for the suite's requests; and no name but the CRM's resolves, so that the
        # browser's own background traffic (updates, sign-in, search) never leaves this host.
        flags += ["--no-proxy-server", f"--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE {crm_host}"]
    if pin:
        # Trusts exactly the certificate the suite verified itself (Chromium reads no PEM bundle, so
        # CRM_CA_BUNDLE cannot be handed over); any other certificate still meets the browser's own checks.
        flags.append(f"--ignore-certificate-errors-spki-list={pin}")
    return flags


def proxy_address(proxy: str) -> str:
    parts = urlsplit(proxy)
    return urlunsplit((parts.scheme, parts.hostname + (f":{parts.port}" if parts.port else ""), "", "", ""))


@contextmanager
def launch(browser: Browser, *, crm_host: str, timeout: float, proxy: str | None,
           pin: str | None) -> Iterator[webdriver.Remote]:
    """A headless browser session; the browser and its driver are always quit, whatever happens inside."""
    os.environ["SE_OFFLINE"] = "true"  # belt and braces: Selenium Manager never runs, and could not download
    with tempfile.TemporaryDirectory(prefix="riva-readiness-browser-", ignore_cleanup_errors=True) as profile:
        if browser.is_edge:
            options, service_class, driver_class = webdriver.EdgeOptions(), webdriver.EdgeService, webdriver.Edge
        else:
            options, service_class, driver_class = webdriver.ChromeOptions(), webdriver.ChromeService, webdriver.Chrome
        options.binary_location = str(browser.binary)
        for flag in browser_flags(Path(profile), crm_host=crm_host, proxy=proxy, pin=pin):
            options.add_argument(flag)
        options.add_experimental_option("prefs", QUIET_PREFERENCES)
        with warnings.catch_warnings():  # deprecated in favour of a ClientConfig, which Chrome() cannot take
            warnings.simplefilter("ignore", DeprecationWarning)
            options.ignore_local_proxy_environment_variables()  # the driver is on this machine: never via a proxy
        # The driver path, always given; env key READINESS_CHROMEDRIVER (resolved to the same file by config.py)
        # rather than SE_CHROMEDRIVER, so that no stray variable picks another driver.
        service = service_class(executable_path=str(browser.driver), driver_path_env_key="READINESS_CHROMEDRIVER")
        try:
            driver = driver_class(options=options, service=service)
        except WebDriverException as exc:
            raise BrowserUnavailable(f"the browser {browser.binary} did not start with the driver {browser.driver}: "
                                     f"{_first_line(exc.msg)}") from None
        try:
            driver.command_executor.client_config.timeout = timeout + _SLACK  # no command waits for ever
            driver.set_page_load_timeout(timeout)
            driver.set_script_timeout(timeout)
            yield driver
        finally:
            try:
                driver.quit()  # stops the driver process (and with it the browser) even when the browser is gone
            except _BROKEN:
                pass


# What a browser or driver that crashed or stopped answering raises.
_BROKEN = (WebDriverException, urllib3.exceptions.HTTPError, OSError)


def _first_line(text: str | None) -> str:
    return (text or "no reason given").strip().splitlines()[0].split("; For documentation")[0]


# -- signing in ----------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class BrowserSignIn:
    """What the browser saw: a sign-in to judge, or the problem that kept it from getting that far."""

    sign_in: SignIn | None
    problem: str | None = None
    screenshots: tuple[tuple[str, bytes], ...] = field(default=(), repr=False)  # (name, PNG)
    captions: tuple[str, ...] = ()  # one per screenshot: caption(), also drawn on the picture
    browser: str = "a headless browser"  # e.g. "headless chromium 156.0.8078.79"


def caption(url: str, taken: datetime, redactor: Redactor) -> str:
    """What a screenshot shows of itself: the page's address (no credential: url_for_evidence, then the run's
    secrets masked) and when it was taken, in UTC (ISO 8601)."""
    return redactor.text(f"{url_for_evidence(url)} at {taken.astimezone(UTC):%Y-%m-%dT%H:%M:%SZ}")


def describe_error_page(url: str, code: str, host: str) -> str:
    """The browser's own error page (or error) for `url`, in words: certificate errors first."""
    if code.startswith(("ERR_CERT_", "ERR_SSL_")):
        return (f"the browser refused the TLS certificate of {host} ({code}) at {url} — R1.2 says what is wrong with "
                "it; the browser is given only a certificate that the suite itself verified")
    if code == "ERR_TIMED_OUT":
        return f"the browser could not open {url}: the connection timed out ({code})"
    return f"the browser could not open {url} ({code})"


def judge(seen: BrowserSignIn, username: str) -> Outcome:
    """R1.4's verdict on what the browser saw."""
    if seen.problem:
        return Outcome.fail(seen.problem)
    return access.judge_web_sign_in(seen.sign_in, username, how="an unattended browser",
                                    where=f"through the web login in {seen.browser}")


def sign_in_with_browser(browser: Browser, crm: CrmAddress, user: Credentials, *, timeout: float,
                         proxy: str | None, pin: str | None, redactor: Redactor | None = None) -> BrowserSignIn:
    """`redactor` masks the run's secrets in the screenshots' captions (the user's password always)."""
    redactor = redactor or Redactor()
    redactor.add(user.password.reveal())
    with launch(browser, crm_host=crm.host, timeout=timeout, proxy=proxy, pin=pin) as driver:
        label = f"headless {browser.name} {driver.capabilities.get('browserVersion', '')}".strip()
        visit = _Visit(driver, crm, timeout, redactor)
        try:
            seen = visit.sign_in(user)
        except TimeoutException:
            seen = BrowserSignIn(None, f"{visit.waiting_for} within {timeout:g} s (CRM_TIMEOUT) — the CRM, or the "
                                       "network in between, is too slow or stuck")
        except _BROKEN as exc:  # the browser itself failed, not the CRM
            reason = _first_line(getattr(exc, "msg", None) or str(exc))
            raise BrowserUnavailable(f"the browser {browser.binary} stopped working ({reason})") from None
        return replace(seen, screenshots=tuple(visit.screenshots), captions=tuple(visit.captions), browser=label)


class _Visit:
    """One sign-in, step by step, as a person would do it; screenshots along the way."""

    def __init__(self, driver: webdriver.Remote, crm: CrmAddress, timeout: float, redactor: Redactor):
        self.driver = driver
        self.crm = crm
        self.timeout = timeout
        self.redactor = redactor
        self.screenshots: list[tuple[str, bytes]] = []
        self.captions: list[str] = []
        self.waiting_for = "the browser did not start"  # what did not happen, should the time limit strike
        self.password: str | None = None  # once typed: never on a screenshot

    def sign_in(self, user: Credentials) -> BrowserSignIn:
        for path in LOGIN_PAGES:
            if problem := self.open(path, "the login page"):
                return BrowserSignIn(None, problem)
            if self.has_form():
                break
        else:
            return BrowserSignIn(None, f"{self.driver.current_url} does not show the 1CRM sign-in form in the "
                                       "browser (R1.3 says why)")
        if HUMAN_CHECK.search(self.driver.page_source):
            self.screenshot("R1.4 login page with a human check")
            return BrowserSignIn(SignIn(False, "the login page shows a human-check widget", human_check=True))
        field_type = self.driver.find_element(By.ID, "login_pass").get_attribute("type")
        if field_type != "password":
            return BrowserSignIn(None, f"the password field of {self.driver.current_url} does not hide what is typed "
                                       f"(type '{field_type}'): the suite does not type the password there")
        if problem := self.elsewhere("the login page"):  # checked before anything is typed
            return BrowserSignIn(None, problem)
        name_field = self.driver.find_element(By.ID, "login_user")
        name_field.clear()
        name_field.send_keys(user.username)
        self.screenshot("R1.4 login form")  # before the password is typed
        if problem := self.elsewhere("the login page"):  # the page may have moved on since
            return BrowserSignIn(None, problem)
        self.password = user.password.reveal()
        self.driver.find_element(By.ID, "login_pass").send_keys(self.password)
        self.driver.execute_script(f"{_MARK} = true;")
        self.waiting_for = "after pressing Log In, neither a new page nor a message from the login page appeared"
        self.driver.find_element(By.ID, "login_button").click()
        return self.after_log_in()

    def after_log_in(self) -> BrowserSignIn:
        """Waits for a new page (the home page, or wherever the CRM sends the user) or the page's error message."""
        read = f"{_READ_ERROR} return [{_MARK} === true, document.readyState, words];"

        def settled(driver):
            try:
                same_page, ready, error = driver.execute_script(read)
            except TimeoutException:  # the driver waited for a new page that did not finish loading
                self.waiting_for = "the page the CRM opened after Log In did not finish loading"
                raise
            return (same_page, error.strip()) if (not same_page and ready == "complete") or error.strip() else False

        same_page, error = WebDriverWait(self.driver, self.timeout, poll_frequency=0.1,
                                         ignored_exceptions=(JavascriptException,)).until(settled)
        if not same_page:
            if code := self.error_page():
                return BrowserSignIn(None, describe_error_page(self.driver.current_url, code, self.crm.host))
            if problem := self.elsewhere("after Log In, the browser"):
                return BrowserSignIn(None, problem)
            same_page = bool(error) and self.has_form()  # a refusal rendered by the server
        if same_page:
            self.screenshot("R1.4 sign-in refused")
            return BrowserSignIn(SignIn(False, error.replace(self.password, "***")))
        title = self.driver.title
        # The Home module with a session, in whatever language its title is (never an exact English title).
        reached = is_home(self.driver.current_url) and not self.has_form() and self.has_session()
        self.screenshot("R1.4 home page" if reached else "R1.4 page after sign-in")
        if not reached:
            return BrowserSignIn(SignIn(True, "signed in", home_title=title))
        return BrowserSignIn(SignIn(True, "signed in", home_title=title, signed_out=self.sign_out(), reached_home=True))

    def sign_out(self) -> bool:
        """Signed out when the home page sends the browser back to the login form."""
        if self.open(LOGOUT_PAGE, "the sign-out page") or self.open(HOME_PAGE, "the home page after signing out"):
            return False
        return self.has_form()

    def has_session(self) -> bool:
        return any("csrf" not in str(cookie.get("name", "")).lower() for cookie in self.driver.get_cookies())

    def elsewhere(self, what: str) -> str | None:
        """The finding when the browser is no longer on CRM_URL's origin (scheme, host, port): it types nothing then."""
        url = self.driver.current_url
        return None if same_origin(url, self.crm.base) else off_origin(what, url, self.crm.base)

    def open(self, path: str, what: str) -> str | None:
        """Opens a page of the CRM; the browser's error, in words, or None."""
        url = self.crm.join(path)
        self.waiting_for = f"{what} ({url}) did not finish loading"
        try:
            self.driver.get(url)
        except TimeoutException:
            raise  # the caller tells the time-limit story
        except WebDriverException as exc:
            found = _NET_ERROR.search(exc.msg or "")
            if not found:
                raise
            return describe_error_page(url, found.group(1), self.crm.host)
        if code := self.error_page():
            return describe_error_page(url, code, self.crm.host)
        return self.elsewhere(what)  # checked after every navigation

    def error_page(self) -> str | None:
        """The error code when the browser shows its own error page (certificate, network) instead of the CRM's."""
        page, code = self.driver.execute_script(
            "return [document.URL, (document.querySelector('#error-code, .error-code') || {}).textContent || ''];")
        if not _ERROR_PAGE.match(page):
            return None
        self.screenshot("R1.4 browser error page")
        found = _NET_ERROR.search(code)
        return found.group(1) if found else "ERR_UNKNOWN"

    def has_form(self) -> bool:
        return all(self.driver.find_elements(By.ID, element) for element in FORM_IDS)

    def screenshot(self, name: str) -> None:
        """Kept only where the password cannot be seen: password fields are emptied, and a page that shows the
        password anywhere in its text is never photographed."""
        if self.password is not None:
            self.driver.execute_script("document.querySelectorAll('input[type=password]')"
                                       ".forEach(function (e) { e.value = ''; });")
            visible = self.driver.execute_script(
                "return [document.documentElement.outerHTML, document.body ? document.body.innerText : ''];")
            fields = self.driver.execute_script(
                "return Array.from(document.querySelectorAll('input, textarea')).map(function (e) { return e.value; });")
            if any(self.password in text for text in [*visible, *fields]):
                return
        shown = caption(self.driver.current_url, datetime.now(UTC), self.redactor)
        try:
            self.driver.execute_script(_SHOW_CAPTION, shown)
        except JavascriptException:
            pass  # a page that runs no script: the caption is still in the evidence
        self.screenshots.append((name, self.driver.get_screenshot_as_png()))
        self.captions.append(shown)
        try:
            self.driver.execute_script(_HIDE_CAPTION)
        except JavascriptException:
            pass


# -- R1.4 from this host ---------------------------------------------------------------------------------------------


def web_sign_in(crm: CrmAddress, user: Credentials, settings: Settings, new_session: Callable[[], CrmSession],
                keep_screenshot: Callable[[str, bytes], Path], redactor: Redactor | None = None) -> Outcome:
    """R1.4: in a real browser where one can be used; else the scripted web login, saying so (unless required).
    `redactor` is the run's: what it learnt on the wire is masked in the captions drawn on the screenshots too."""
    choice = settings.browser
    if choice.mode == "off":
        return _noted(access.web_sign_in(crm, new_session(), user), "READINESS_BROWSER=off: a scripted web login")
    try:
        browser = find_browser(choice)
        if settings.proxy and urlsplit(settings.proxy).username:
            raise BrowserUnavailable("CRM_PROXY needs a user name and password, which a browser cannot be given on "
                                     "its command line")
        der = tls.verified_certificate(crm, verify=settings.tls_verify, proxy=settings.proxy,
                                       timeout=settings.timeout) if crm.is_https else None
        seen = sign_in_with_browser(browser, crm, user, timeout=settings.timeout, proxy=settings.proxy,
                                    pin=spki_pin(der) if der else None,
                                    redactor=redactor or Redactor(*settings.secrets))
    except BrowserUnavailable as exc:
        if choice.mode == "required":
            raise BrowserUnavailable(f"READINESS_BROWSER=required, but {exc} — install Chrome or Chromium and its "
                                     "driver, or set READINESS_CHROMIUM and READINESS_CHROMEDRIVER") from None
        scripted = access.web_sign_in(crm, new_session(), user)
        done = "signed in" if scripted.passed else "tried to sign in"
        return _noted(scripted, f"{exc}: {done} {SCRIPTED_INSTEAD}")
    saved = [keep_screenshot(name, png) for name, png in seen.screenshots]
    outcome = judge(seen, user.username)
    if not saved:
        return outcome
    shots = [{"file": str(p), "caption": c} for p, c in zip(saved, seen.captions)]  # address and time of each
    return replace(outcome, message=f"{outcome.message} (screenshots: {', '.join(p.name for p in saved)})",
                   evidence={**outcome.evidence, "screenshots": shots})


def _noted(outcome: Outcome, note: str) -> Outcome:
    return replace(outcome, message=f"{outcome.message} ({note})")
