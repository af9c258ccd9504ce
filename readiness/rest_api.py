"""Does this server have the REST API? And what to check by hand where it has none.

Riva does not need the REST API (1crm-api.md section 0): it supports every edition and info@hand
5.3.3+, which predate or lack it. The suite uses the API only to inspect users, roles and records,
so on a server without it those checks are `unverified`, each with the manual check that decides it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from .client import CrmApi
from .config import Settings
from .errors import ApiNotAvailable, AuthenticationFailed, CrmError, NonTlsRefused, NotFound, UnexpectedReply
from .outcome import Outcome
from .roles import MODULES

# The requirements that sign in to or read the CRM through the API.
NEEDS_API = ("R1.5", "R3.1", "R3.2", "R3.3", "R3.4", "R3.5", "R4.2", "R4.3", "R4.4", "R4.5")
RIGHTS = "Access (Enabled), View, List, Edit, Delete, Import and Export"


@dataclass(frozen=True)
class RestApi:
    available: bool
    detail: str  # how it was found, or why it is taken to be missing

    def fact(self) -> dict:
        return {"available": self.available, "detail": self.detail}


def detect(api: CrmApi) -> RestApi:
    """Once per run, without signing in. Only a clear sign says "no API": 403 on /version (an edition without
    it), or no api.php at all (404 or a page that is not the API's JSON) on /version and on /me. A network
    fault or a server error says nothing about it: the API checks then run and report what they meet."""
    try:
        api.version()
        return RestApi(True, f"GET {api.root}/version answers")
    except ApiNotAvailable as exc:
        return RestApi(False, f"GET {api.root}/version answers HTTP {exc.status}, as every API call of an edition "
                              "without the REST API does (1CRM Startup)")
    except NonTlsRefused:
        return RestApi(True, f"{api.root} refuses calls over plain http (see R1.5)")
    except (NotFound, UnexpectedReply) as first:
        if _server_fault(first):
            return RestApi(True, f"not established (GET /api.php/version: {first}); the API checks say what they meet")
        version_problem = f"HTTP {first.status}" if first.status else str(first)
    except CrmError as exc:
        return RestApi(True, f"not established (GET /api.php/version: {exc}); the API checks say what they meet")
    try:
        CrmApi(api.session, api.root.removesuffix("/api.php")).me()  # no credentials: the real API says 401
    except (AuthenticationFailed, ApiNotAvailable):
        return RestApi(True, f"{api.root} answers (GET /me asks for a sign-in; /version gave {version_problem})")
    except (NotFound, UnexpectedReply) as exc:
        if _server_fault(exc):
            return RestApi(True, f"not established (GET /api.php/me: {exc}); the API checks say what they meet")
        return RestApi(False, f"no {api.root} on this server (GET /version: {version_problem}, GET /me: HTTP "
                              f"{exc.status}): info@hand before 8, or an edition without the REST API")
    except CrmError:
        pass  # 403 or another API error: an API is there
    return RestApi(True, f"{api.root} answers")


_PHP_ERROR = re.compile(r"\b(Fatal|Parse) error\b")  # [assumed] PHP's own error page: api.php is there, and fails


def _server_fault(exc: CrmError) -> bool:
    """An error page (5xx, PHP's fatal error, or a 4xx other than 404, such as Apache's 400 for plain http on
    its TLS port) says nothing about whether api.php is missing."""
    status = exc.status or 0
    return status >= 500 or (400 <= status < 500 and status != 404) or bool(_PHP_ERROR.search(str(exc)))


def manual_checks(requirement: str, settings: Settings, presence: RestApi) -> list[Outcome]:
    """The unverified outcomes of an API-based requirement on a server without the API: what to check by hand."""
    why = "not verifiable: this server has no REST API"
    user = settings.username or "the connection user"
    targets = settings.targets
    where = settings.targets_file.name if settings.targets_file else "the target list"
    modules = ", ".join(MODULES.get(m, m) for m in settings.datatypes)
    admin = f"in 1CRM, Admin → User Management, open {user}"
    account = {
        # Riva's own sign-in is what R1.5 stands for: without the API only its connection wizard can show it works
        "R1.5": f"{presence.detail}. Riva connects through the API of editions that have it, and needs none (it "
                f"supports every edition and info@hand 5.3.3+) — check by hand: in Riva's connection wizard, the "
                f"connection test with {user} succeeds",
        "R3.1": f"{admin}: its Status is Active, and it is neither a group user nor a portal-only user",
        "R3.2": f"{admin}: Administrator is ticked on its user record (a flag of the account, is_admin, not a "
                "role under Admin → Roles)",
        "R3.3": f"sign in to 1CRM as {user}: Admin → User Management lists every user of {where} "
                f"({len(targets)} mailboxes)",
        "R3.4": f"{user} must be none of the {len(targets)} mailboxes of {where}: a dedicated service account",
        "R3.5": f"{admin}: its password does not expire (Admin → Password Management: no expiry for this user)",
    }
    if requirement in account:
        return [Outcome.not_verifiable(f"{why}: {account[requirement]}", advisory=requirement in ("R3.4", "R3.5"))]
    if requirement == "R4.2":
        return [Outcome.not_verifiable(
            f"{why}: in 1CRM, Admin → User Management, search for {t.email}: exactly one user has it as primary "
            "e-mail (not only as another e-mail), that user's Status is Active, and it is neither a group nor a "
            "portal-only user", subject=t.email) for t in targets] or [Outcome.not_verifiable(f"{why} (no target list, "
                                                                                             "see R4.1)")]
    if requirement == "R4.3":
        return [Outcome.not_verifiable(
            f"{why}: in 1CRM, Admin → User Management, open the user of {t.email} and note its roles (and those of its "
            f"teams); then Admin → Roles → each of those roles: {modules} allow {RIGHTS}", subject=t.email)
            for t in targets] or [Outcome.not_verifiable(f"{why} (no target list, see R4.1)")]
    probes = [t for t in targets if t.is_probe_user] or list(targets[:2])
    if requirement == "R4.4":
        return [Outcome.not_verifiable(
            f"{why}: sign in to 1CRM in a browser as the user of {t.email} and create, open, modify and delete a "
            f"record of each of {modules}", subject=t.email) for t in probes] or \
            [Outcome.not_verifiable(f"{why} (no target list, see R4.1)")]
    if requirement == "R4.5":
        return [Outcome.not_verifiable(
            f"{why}: the records made by hand for R4.4 as the user of {t.email} show that user as Assigned to, "
            "Created by and Modified by", subject=t.email) for t in probes] or \
            [Outcome.not_verifiable(f"{why} (no target list, see R4.1)")]
    raise KeyError(f"{requirement} does not use the REST API")
