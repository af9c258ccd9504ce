"""Which 1CRM this is: version, edition, hosted or on-premise (from /api.php/version or the About page),
and whether Riva supports it (R2.1)."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace

from packaging.version import Version

from .client import CrmApi
from .config import CrmAddress, Credentials
from .errors import CrmError
from .http import CrmSession
from .outcome import Outcome
from .weblogin import ABOUT_PAGE, LOGOUT_PAGE, read_page, sign_in

# [assumed] host names of the hosted services (1crm-api.md section 7).
HOSTED_DOMAINS = (".1crmcloud.com", ".infoathand.com")
# [source] the About page: 1CRM prints "1CRM 8.7.7", info@hand "info@hand Version 7.1.3" (1crm-api.md section 9).
_ABOUT_VERSION = re.compile(
    r"(?P<product>1CRM|info@hand)\s+(?:Version\s+)?(?P<version>\d+(?:\.\d+){1,3}(?:-\d+)?)"
    r"(?:\s+(?P<edition>\w+)\s+Edition)?",
    re.IGNORECASE,
)
# A version as servers write it: "8.7.7", "8.7.7-318" (a build number), "info@hand 6.0.2",
# "info@hand Version 7.1.3", "v9.0".
_VERSION_TEXT = re.compile(
    r"(?:(?P<product>1CRM|info@hand)\s+(?:Version\s+)?)?\bv?(?P<number>\d{1,2}(?:\.\d+){1,3})(?:-(?P<build>\d+))?\b",
    re.IGNORECASE)
# Riva's article: on-premise servers need info@hand 5.3.3 or later; every 1CRM 7.x and later is later.
OLDEST_ON_PREMISE = Version("5.3.3")
# [source] releases before 7 were info@hand, from 8 on 1CRM; 7.x shipped under both names (info@hand 7.1.3 is one),
# so a bare 7.x number names neither.
_INFO_AT_HAND_UNTIL, _1CRM_FROM = Version("7"), Version("8")


@dataclass(frozen=True)
class Release:
    """A parsed version: the text to show (build included) and the number to compare."""

    text: str
    number: Version
    product: str

    @property
    def label(self) -> str:
        return f"{self.product} {self.text}"


def parse_version(text: str | None) -> Release | None:
    """The release a version string names, or None for a missing or unreadable one."""
    found = _VERSION_TEXT.search(str(text or ""))
    if not found:
        return None
    number = Version(found["number"])
    product = _product_name(found["product"]) or (
        "info@hand" if number < _INFO_AT_HAND_UNTIL else "1CRM" if number >= _1CRM_FROM else "1CRM (info@hand)")
    shown = found["number"] + (f"-{found['build']}" if found["build"] else "")
    return Release(shown, number, product)


def _product_name(text: str | None) -> str | None:
    return {"1crm": "1CRM", "info@hand": "info@hand"}.get((text or "").lower())


@dataclass(frozen=True)
class ServerInfo:
    version: str | None
    edition: str | None
    hosted: bool
    source: str  # where the facts came from, or why they are missing
    product: str | None = None  # the name the server gives itself (About page), where it gives one

    def facts(self) -> dict:
        """What the run records for readiness.json and the connection sheet (check.note)."""
        return {"version": self.version, "edition": self.edition, "hosted": self.hosted, "server_source": self.source}

    @property
    def label(self) -> str:
        if not self.version:
            return "version unknown"
        return f"{self.version} {self.edition or ''}".strip()

    @property
    def release(self) -> Release | None:
        release = parse_version(self.version)
        named = _product_name(self.product)
        return replace(release, product=named) if release and named else release


def is_hosted(crm: CrmAddress) -> bool:
    return crm.host.endswith(HOSTED_DOMAINS)


def detect(crm: CrmAddress, api: CrmApi, session: CrmSession, user: Credentials | None) -> ServerInfo:
    """The API's version endpoint first; the About page (which needs a web sign-in) second."""
    hosted = is_hosted(crm)
    try:
        reply = api.version()
        release = parse_version(reply.get("version"))
        if release:
            products = reply.get("products") or []
            edition = ", ".join(str(p).capitalize() for p in products) or None
            return ServerInfo(release.text, edition, hosted, "GET /api.php/version")
        shown = str(reply.get("version") or "")[:40]
        api_problem = (f"GET /api.php/version gave {shown!r}, which is not a version number" if shown
                       else "GET /api.php/version gave no version")
    except CrmError as exc:
        api_problem = f"GET /api.php/version: {exc}"
    if user is None:
        return ServerInfo(None, None, hosted, f"{api_problem}; no credentials to open the About page")
    try:
        signed_in = sign_in(session, crm.base, user.username, user.password.reveal(), sign_out=False)
        if signed_in.problem:
            return ServerInfo(None, None, hosted, f"{api_problem}; the web sign-in for the About page: {signed_in.problem}")
        if not signed_in.accepted:
            return ServerInfo(None, None, hosted, f"{api_problem}; the web sign-in for the About page was refused")
        page = read_page(session, f"{crm.base}/{ABOUT_PAGE}")
        session.get(f"{crm.base}/{LOGOUT_PAGE}")  # leave no web session behind
    except CrmError as exc:
        return ServerInfo(None, None, hosted, f"{api_problem}; About page: {exc}")
    found = _ABOUT_VERSION.search(re.sub(r"<[^>]+>", " ", page.text))
    if not found:
        return ServerInfo(None, None, hosted, f"{api_problem}; the About page shows no version")
    edition = found["edition"].capitalize() if found["edition"] else None
    return ServerInfo(found["version"], edition, hosted, "the About page", product=found["product"])


def judge(server: ServerInfo) -> Outcome:
    """R2.1: hosted services pass in every edition; on-premise needs info@hand 5.3.3 or later."""
    release = server.release
    found = f"{release.label} {server.edition or ''}".strip() if release else None
    if server.hosted:
        seen = f"{found} (from {server.source})" if found else f"version not detected ({server.source})"
        return Outcome.ok(f"{seen}, a hosted service (1CRM Cloud or info@hand Online): Riva supports hosted 1CRM "
                          "in every edition")
    if release is None:
        return Outcome.fail(f"the version of this on-premise server could not be determined ({server.source}) — "
                            f"Riva needs info@hand {OLDEST_ON_PREMISE} or later; check the version on the CRM's About "
                            "page and that /api.php/version answers")
    if release.number < OLDEST_ON_PREMISE:
        return Outcome.fail(f"{found}, on-premise, is older than info@hand {OLDEST_ON_PREMISE}, the oldest on-premise "
                            "release Riva supports — upgrade the CRM before connecting Riva")
    return Outcome.ok(f"{found}, on-premise (from {server.source}): info@hand {OLDEST_ON_PREMISE} or later, as Riva "
                      "requires")
