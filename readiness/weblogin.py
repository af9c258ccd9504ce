"""The 1CRM web login as a person at the Riva host uses it (1crm-api.md section 7), with requests.

The page's own script posts to json.php?action=login; this module does the same posts, so what
it proves is what the browser would do (a real browser comes with R1.4's browser mode).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from .errors import CrmError
from .http import CrmSession

LOGIN_PAGES = ("login.php", "index.php?module=Users&action=Login")  # the second for older servers
HOME_PAGE = "index.php?module=Home&action=index"
LOGOUT_PAGE = "index.php?module=Users&action=Logout"
ABOUT_PAGE = "index.php?module=Home&action=About"
HOME_TITLE = "1CRM: Home Dashboard"
FORM_IDS = ("login_user", "login_pass", "login_button")
# Markers of the human-check widgets 1CRM Cloud may show (reCAPTCHA, hCaptcha, Turnstile).
HUMAN_CHECK = re.compile(r"g-recaptcha|recaptcha/api\.js|h-captcha|hcaptcha\.com|cf-turnstile", re.IGNORECASE)


class _PageReader(HTMLParser):
    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.title = ""
        self._in_title = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        self._in_title = tag == "title"

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    title: str
    ids: frozenset[str]
    text: str = field(repr=False)

    @property
    def has_login_form(self) -> bool:
        return all(i in self.ids for i in FORM_IDS)

    @property
    def has_human_check(self) -> bool:
        return bool(HUMAN_CHECK.search(self.text))


def read_page(session: CrmSession, url: str) -> Page:
    response = session.get(url, allow_redirects=True)
    reader = _PageReader()
    reader.feed(response.text)
    return Page(response.url, response.status_code, reader.title.strip(), frozenset(reader.ids), response.text)


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
    home_title: str | None = None
    signed_out: bool | None = None


def sign_in(session: CrmSession, base: str, username: str, password: str, *, sign_out: bool = True) -> SignIn:
    """Signs in as the login page's script does; reaches the home page; signs out again."""
    page = find_login_page(session, base)
    if page.has_human_check:
        return SignIn(False, "the login page shows a human-check widget", human_check=True)
    headers = {"X-Requested-With": "XMLHttpRequest"}
    csrf = next((v for k, v in session.cookies.items() if "csrf" in k.lower()), None)
    if csrf:
        headers["x-onecrm-csrf-token"] = csrf
    response = session.post(
        f"{base}/json.php?action=login",
        data={"username": username, "password": password, "theme": "", "language": "en_us",
              "login_module": "Home", "login_action": "index", "res_width": "1920", "res_height": "1080", "gmto": "0"},
        headers=headers,
    )
    try:
        reply = response.json()
    except ValueError:
        raise CrmError(f"json.php?action=login answered HTTP {response.status_code} without JSON", url=response.url,
                       status=response.status_code) from None
    if not isinstance(reply, dict) or reply.get("result") != "ok":
        message = str((reply.get("message") if isinstance(reply, dict) else None) or f"HTTP {response.status_code}")
        return SignIn(False, message, human_check=bool(HUMAN_CHECK.search(message) or "human" in message.lower()))
    home = read_page(session, f"{base}/{reply.get('redirect') or HOME_PAGE}")
    signed_out = None
    if sign_out:
        session.get(f"{base}/{LOGOUT_PAGE}", allow_redirects=True)
        signed_out = read_page(session, f"{base}/{HOME_PAGE}").title != HOME_TITLE
    return SignIn(True, "signed in", home_title=home.title, signed_out=signed_out)
