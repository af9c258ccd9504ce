"""Step 5: the information Riva's connection wizard asks for (R5.1 to R5.3) and the connection sheet."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .config import PLACEHOLDERS, CrmAddress, Settings, is_placeholder
from .outcome import Outcome
from .redaction import Redactor, url_without_password
from .server_info import ServerInfo

# Markdown that could turn a CRM's or a user's text into markup, a link, raw HTML or a new table cell.
# `_` only at a word's edge: inside riva_svc it is no emphasis (CommonMark), and stays readable.
_MARKUP = re.compile(r"[\\`*\[\]<>|~&]|(?<![^\W_])_|_(?![^\W_])")


def md_cell(value) -> str:
    """Text as one Markdown table cell: one line, every markup character escaped."""
    text = "".join(ch if ch.isprintable() else " " for ch in str(value))
    text = " ".join(text.split())  # a newline would end the row
    return _MARKUP.sub(lambda m: "\\" + m.group(0), text)


def address(crm: CrmAddress) -> Outcome:
    """R5.1: CRM_URL is the absolute http(s) address of the login window."""
    if crm.problems:
        return Outcome.fail(f"CRM_URL {crm.configured} is not what Riva's wizard needs: {'; '.join(crm.problems)} — "
                            f"give Riva {crm.base}")
    advice = "" if crm.is_https else " (https is recommended, see R1.2)"
    return Outcome.ok(f"CRM_URL {crm.base} is the address of the login window{advice}")


def credentials(settings: Settings) -> Outcome:
    """R5.2: the connection user's name and password are configured, not env.example's placeholders."""
    problems = []
    for name, value in (("CRM_USERNAME", settings.username),
                        ("CRM_PASSWORD", settings.password.reveal() if settings.password else None)):
        if not value:
            problems.append(f"{name} is not set")
        elif is_placeholder(value) or value == PLACEHOLDERS[name]:
            problems.append(f"{name} still holds the placeholder of env.example")
    if problems:
        return Outcome.fail("; ".join(problems) + " — set the Riva connection user's name and password")
    via = f"OAuth2 API client '{settings.client_id}'" if settings.uses_oauth else "HTTP Basic (no OAuth2 client set)"
    return Outcome.ok(f"connection user '{settings.username}' and a password are configured; API sign-in via {via}")


@dataclass
class ConnectionSheet:
    """What the admin types into Riva's 1CRM connection wizard. Never holds a password."""

    address: str
    username: str | None
    server: ServerInfo
    proxy: str | None = None
    targets: list[tuple[str, str]] = field(default_factory=list)  # (address, status)
    concurrency: str = "not measured by this run"
    verdict: str | None = None  # the run's verdict and id, once decided (the run's sheet; R5.3 judges it before)
    run_id: str | None = None

    @classmethod
    def of(cls, settings: Settings, server: ServerInfo, targets: list[tuple[str, str]] | None = None,
           concurrency: str = "not measured by this run", verdict: str | None = None,
           run_id: str | None = None) -> "ConnectionSheet":
        """The sheet of this run's settings; each target with its status (by default: not checked)."""
        if not targets:
            targets = [(t.email, "not checked by this run") for t in settings.targets]
        return cls(settings.crm.base, settings.username, server, proxy=settings.proxy, targets=targets,
                   concurrency=concurrency, verdict=verdict, run_id=run_id)

    def gaps(self) -> list[str]:
        missing = []
        if not self.username:
            missing.append("the connection user name (CRM_USERNAME)")
        if not self.server.version:
            missing.append(f"the CRM version ({self.server.source})")
        return missing

    def render(self) -> str:
        """Markdown; every value is escaped (md_cell): names and versions come from the CRM and the admin."""
        c = md_cell
        target_rows = "\n".join(f"| {c(email)} | {c(status)} |" for email, status in self.targets) or "| (no targets file) | |"
        proxy = url_without_password(self.proxy, shown="")
        if proxy != self.proxy:
            proxy += " (password from your password vault)"
        return "\n".join([
            "# Riva connection sheet — 1CRM",
            "",
            "Values for Riva's 1CRM / info@hand connection wizard. The password is never written here.",
            "",
            *([f"Readiness verdict: **{c(self.verdict)}** (run {c(self.run_id or 'unknown')})", ""] if self.verdict else []),
            "| Wizard field | Value |",
            "|---|---|",
            f"| CRM login address | {c(self.address)} |",
            f"| Connection user name | {c(self.username) if self.username else '(not configured)'} |",
            "| Connection user password | (from your password vault — not recorded) |",
            f"| Proxy | {c(proxy) if proxy else 'none'} |",
            f"| CRM version and edition | {c(self.server.label)} ({'hosted' if self.server.hosted else 'on-premise'}) |",
            f"| Concurrency the server sustained | {c(self.concurrency)} |",
            "",
            "## Target users",
            "",
            "| Mailbox | Status (the worst of R4.2 to R4.5) |",
            "|---|---|",
            target_rows,
            "",
        ])


def sheet_outcome(sheet: ConnectionSheet, redactor: Redactor) -> Outcome:
    """R5.3: the sheet has everything the wizard needs and no secret (by the run's masking policy)."""
    text = sheet.render()
    if redactor.reveals(text):
        return Outcome.fail("the connection sheet would contain a secret; it was not written")
    if sheet.gaps():
        return Outcome.fail(f"the connection sheet is incomplete: missing {', '.join(sheet.gaps())}",
                            evidence={"sheet": text})
    return Outcome.ok(f"connection sheet ready: {sheet.address}, user {sheet.username}, {sheet.server.label}",
                      evidence={"sheet": text})
