"""The 1CRM web login as a person at the Riva host uses it (1crm-api.md section 9), with requests.

The page's own script posts to json.php?action=login; this module does the same posts, so what
it proves is what the browser would do (a real browser comes with R1.4's browser mode). The
credentials go to CRM_URL's own origin only: a login page found elsewhere, or a redirect of the
login post, is a finding, and nothing is sent there.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from urllib.parse import parse_qs, urljoin, urlsplit

from .http import CrmSession, json_or_none

LOGIN_PAGES = ("login.php", "index.php?module=Users&action=Login")  # the second for older servers
HOME_PAGE = "index.php?module=Home&action=index"
LOGOUT_PAGE = "index.php?module=Users&action=Logout"
ABOUT_PAGE = "index.php?module=Home&action=About"
HOME_MODULE = "Home"  # [source] the login asks for login_module=Home; the page title is translated, never compared
FORM_IDS = ("login_user", "login_pass", "login_button")
# [source] where a login page shows a refusal: info@hand's #error_message (in #error_row), else these.
ERROR_IDS = ("error_message", "login_error")
ERROR_CLASS = "error"
# Markers of the human-check widgets 1CRM Cloud may show (reCAPTCHA, hCaptcha, Turnstile).
HUMAN_CHECK = re.compile(r"g-recaptcha|recaptcha/api\.js|h-captcha|hcaptcha\.com|cf-turnstile", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
_HIDDEN = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr"})


def origin(url: str) -> tuple[str, str, int | None]:
    """(scheme, host, port) of an address: what a browser treats as one site."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port or _DEFAULT_PORTS.get(scheme)
    except ValueError:
        port = None
    return scheme, (parts.hostname or "").lower(), port


def origin_text(url: str) -> str:
    scheme, host, port = origin(url)
    return f"{scheme}://{host}:{port}"


def same_origin(url: str, base: str) -> bool:
    return origin(url) == origin(base)


def off_origin(what: str, url: str, base: str) -> str:
    """The finding when the CRM sends the sign-in to another origin than CRM_URL's."""
    return (f"{what} was sent to {url}, another origin than CRM_URL ({origin_text(base)}): no credentials are "
            "sent there — Riva signs in at CRM_URL only; set CRM_URL to the CRM's own address, or find out why the "
            "server sends its login elsewhere")


def is_home(url: str) -> bool:
    """The address belongs to the Home module (index.php?module=Home...)."""
    return parse_qs(urlsplit(url).query).get("module", [""])[0].lower() == HOME_MODULE.lower()


class _PageReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.title = ""
        self.errors: list[str] = []  # the words of every visible error element, in page order
        self._in_title = False
        self._capture: list[list] = []  # [tag, depth, words] of the error elements being read

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        self._in_title = tag == "title"
        if tag in _VOID:
            return
        for capture in self._capture:
            capture[1] += capture[0] == tag
        classes = (attributes.get("class") or "").split()
        visible = "hidden" not in attributes and not _HIDDEN.search(attributes.get("style") or "")
        if visible and (attributes.get("id") in ERROR_IDS or ERROR_CLASS in classes):
            self._capture.append([tag, 1, []])

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False
        for capture in list(self._capture):
            if capture[0] == tag:
                capture[1] -= 1
                if capture[1] == 0:
                    self._capture.remove(capture)
                    words = " ".join("".join(capture[2]).split())
                    if words:
                        self.errors.append(words)

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        for capture in self._capture:
            capture[2].append(data)


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    title: str
    ids: frozenset[str]
    text: str = field(repr=False)
    errors: tuple[str, ...] = ()  # what its error elements say

    @property
    def has_login_form(self) -> bool:
        return all(i in self.ids for i in FORM_IDS)

    @property
    def has_human_check(self) -> bool:
        return bool(HUMAN_CHECK.search(self.text))


def parse_page(url: str, status: int, text: str) -> Page:
    reader = _PageReader()
    reader.feed(text)
    reader.close()
    return Page(url, status, reader.title.strip(), frozenset(reader.ids), text, tuple(reader.errors))


def read_page(session: CrmSession, url: str) -> Page:
    """A page as a browser shows it, redirects followed (no credentials are sent: check the origin after it)."""
    response = session.get(url, allow_redirects=True)
    return parse_page(response.url, response.status_code, response.text)


def find_login_page(session: CrmSession, base: str) -> Page:
    """The first login page that shows the form; else the most telling page, for the message."""
    pages = []
    for path in LOGIN_PAGES:
        pages.append(read_page(session, f"{base}/{path}"))
        if pages[-1].status == 200 and pages[-1].has_login_form:
            return pages[-1]
    return next((page for page in pages if page.status == 200), pages[0])


@dataclass(frozen=True)
class SignIn:
    """What happened when a user signed in through the web login."""

    accepted: bool
    message: str  # the server's own words on refusal
    human_check: bool = False
    home_title: str | None = None  # the title of the page reached after sign-in, as shown
    signed_out: bool | None = None
    reached_home: bool = False  # the Home module opened, on CRM_URL's origin, with a session
    problem: str | None = None  # no answer the suite can judge (none, not JSON, a redirect, another origin)


def sign_in(session: CrmSession, base: str, username: str, password: str, *, sign_out: bool = True) -> SignIn:
    """Signs in as the login page's script does; reaches the home page; signs out again."""
    page = find_login_page(session, base)
    if not same_origin(page.url, base):
        return SignIn(False, "", problem=off_origin("the login page", page.url, base))
    if page.has_human_check:
        return SignIn(False, "the login page shows a human-check widget", human_check=True)
    headers = {"X-Requested-With": "XMLHttpRequest", "Accept": "application/json"}
    csrf = next((v for k, v in session.cookies.items() if "csrf" in k.lower()), None)
    if csrf:  # [source] some servers echo a CSRF cookie in this header; public logins succeed without one
        headers["x-onecrm-csrf-token"] = csrf
    # [source] the page's script posts a JSON body (1crm-api.md section 9); a redirect is never followed.
    response = session.post(
        f"{base}/json.php?action=login",
        json={"username": username, "password": password, "theme": "", "language": "en_us",
              "login_module": HOME_MODULE, "login_action": "index", "res_width": 1920, "res_height": 1080, "gmto": 0},
        headers=headers, allow_redirects=False,
    )
    if response.is_redirect:
        target = urljoin(response.url, response.headers["Location"])
        return SignIn(False, "", problem=f"json.php?action=login redirected (HTTP {response.status_code}) to {target}: "
                                         "credentials are not sent there")
    reply = json_or_none(response.text)
    if not isinstance(reply, dict):
        refusal = parse_page(response.url, response.status_code, response.text).errors
        if refusal:  # an older server renders its login page with the refusal
            return SignIn(False, refusal[0])
        return SignIn(False, "", problem=f"json.php?action=login gave no answer to read: HTTP {response.status_code} "
                                         f"({response.headers.get('Content-Type', 'no content type')}), "
                                         f"{_excerpt(response.text, password)!r}")
    if reply.get("result") != "ok":
        message = str(reply.get("message") or "").strip()
        if not message:
            return SignIn(False, "", problem=f"json.php?action=login answered HTTP {response.status_code} with neither "
                                             f"result 'ok' nor a message: {_excerpt(response.text, password)!r}")
        return SignIn(False, message, human_check=bool(HUMAN_CHECK.search(message) or "human" in message.lower()))
    home = read_page(session, urljoin(f"{base}/", str(reply.get("redirect") or HOME_PAGE)))
    reached = reached_home(home, base, session)
    signed_out = None
    if sign_out:
        session.get(f"{base}/{LOGOUT_PAGE}", allow_redirects=True)
        signed_out = read_page(session, f"{base}/{HOME_PAGE}").has_login_form  # back to the login form
    return SignIn(True, "signed in", home_title=home.title, signed_out=signed_out, reached_home=reached)


def reached_home(page: Page, base: str, session: CrmSession) -> bool:
    """The login page was left for the Home module, on CRM_URL's origin, with a session cookie (in any language)."""
    has_session = any("csrf" not in name.lower() for name in session.cookies.keys())
    return (page.status == 200 and same_origin(page.url, base) and is_home(page.url) and not page.has_login_form
            and has_session)


def _excerpt(text: str, password: str) -> str:
    words = re.sub(r"\s+", " ", text[:160]).strip()
    return words.replace(password, "***") if password else words
