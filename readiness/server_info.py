"""Which 1CRM this is: version, edition, hosted or on-premise (from /api.php/version or the About page)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .client import CrmApi
from .config import CrmAddress, Credentials
from .errors import CrmError
from .http import CrmSession
from .weblogin import ABOUT_PAGE, LOGOUT_PAGE, read_page, sign_in

# [assumed] host names of the hosted services (1crm-api.md section 7).
HOSTED_DOMAINS = (".1crmcloud.com", ".infoathand.com")
_ABOUT_VERSION = re.compile(
    r"(?P<product>1CRM|info@hand)\s+(?P<version>\d+(?:\.\d+){1,3}(?:-\d+)?)(?:\s+(?P<edition>\w+)\s+Edition)?",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ServerInfo:
    version: str | None
    edition: str | None
    hosted: bool
    source: str  # where the facts came from, or why they are missing

    @property
    def label(self) -> str:
        if not self.version:
            return "version unknown"
        return f"{self.version} {self.edition or ''}".strip()


def is_hosted(crm: CrmAddress) -> bool:
    return crm.host.endswith(HOSTED_DOMAINS)


def detect(crm: CrmAddress, api: CrmApi, session: CrmSession, user: Credentials | None) -> ServerInfo:
    """The API's version endpoint first; the About page (which needs a web sign-in) second."""
    hosted = is_hosted(crm)
    try:
        reply = api.version()
        if reply.get("version"):
            products = reply.get("products") or []
            edition = ", ".join(str(p).capitalize() for p in products) or None
            return ServerInfo(str(reply["version"]), edition, hosted, "GET /api.php/version")
        api_problem = "GET /api.php/version gave no version"
    except CrmError as exc:
        api_problem = f"GET /api.php/version: {exc}"
    if user is None:
        return ServerInfo(None, None, hosted, f"{api_problem}; no credentials to open the About page")
    try:
        if not sign_in(session, crm.base, user.username, user.password.reveal(), sign_out=False).accepted:
            return ServerInfo(None, None, hosted, f"{api_problem}; the web sign-in for the About page was refused")
        page = read_page(session, f"{crm.base}/{ABOUT_PAGE}")
        session.get(f"{crm.base}/{LOGOUT_PAGE}")  # leave no web session behind
    except CrmError as exc:
        return ServerInfo(None, None, hosted, f"{api_problem}; About page: {exc}")
    found = _ABOUT_VERSION.search(re.sub(r"<[^>]+>", " ", page.text))
    if not found:
        return ServerInfo(None, None, hosted, f"{api_problem}; the About page shows no version")
    edition = found["edition"].capitalize() if found["edition"] else None
    return ServerInfo(found["version"], edition, hosted, "the About page")
