"""Step 5: the information Riva's connection wizard asks for (R5.1 to R5.3) and the connection sheet."""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import PLACEHOLDERS, CrmAddress, Settings, is_placeholder
from .outcome import Outcome
from .server_info import ServerInfo


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

    def gaps(self) -> list[str]:
        missing = []
        if not self.username:
            missing.append("the connection user name (CRM_USERNAME)")
        if not self.server.version:
            missing.append(f"the CRM version ({self.server.source})")
        return missing

    def render(self) -> str:
        target_rows = "\n".join(f"| {email} | {status} |" for email, status in self.targets) or "| (no targets file) | |"
        return "\n".join([
            "# Riva connection sheet — 1CRM",
            "",
            "Values for Riva's 1CRM / info@hand connection wizard. The password is never written here.",
            "",
            "| Wizard field | Value |",
            "|---|---|",
            f"| CRM login address | {self.address} |",
            f"| Connection user name | {self.username or '(not configured)'} |",
            "| Connection user password | (from your password vault — not recorded) |",
            f"| Proxy | {self.proxy or 'none'} |",
            f"| CRM version and edition | {self.server.label} ({'hosted' if self.server.hosted else 'on-premise'}) |",
            f"| Concurrency the server sustained | {self.concurrency} |",
            "",
            "## Target users",
            "",
            "| Mailbox | Status |",
            "|---|---|",
            target_rows,
            "",
        ])


def sheet_outcome(sheet: ConnectionSheet, secrets: tuple[str, ...]) -> Outcome:
    """R5.3: the sheet has everything the wizard needs and no secret."""
    text = sheet.render()
    if any(secret and secret in text for secret in secrets):
        return Outcome.fail("the connection sheet would contain a secret; it was not written")
    if sheet.gaps():
        return Outcome.fail(f"the connection sheet is incomplete: missing {', '.join(sheet.gaps())}",
                            evidence={"sheet": text})
    return Outcome.ok(f"connection sheet ready: {sheet.address}, user {sheet.username}, {sheet.server.label}",
                      evidence={"sheet": text})
