"""The targets file: the mailboxes Riva will sync, one CSV row each (or the probe users' rows, joined to the
directory's mailboxes by address, when RIVA_TARGETS_LDAP_URL is set: see ldap_targets.py).

Header row required; column `email` required; optional column `password_env` names the
environment variable holding that user's password (passwords never live in the CSV).
"""

from __future__ import annotations

import csv
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from .errors import ConfigError

# Deliberately plain: Riva matches the mailbox's SMTP address literally, so anything
# beyond local@domain.tld without spaces is left for the CRM comparison to judge.
_ADDRESS = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>.]+$")
_VARIABLE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_RESERVED_PREFIXES = ("CRM_", "RIVA_", "READINESS_")
MAX_LINE = 1000  # a row holds an address (at most 254 characters) and a variable name


@dataclass(frozen=True)
class Target:
    email: str
    line: int
    password_env: str | None = None
    # From the directory (RIVA_TARGETS_LDAP_*): the entry the mailbox came from, its other smtp: addresses
    # and what the directory itself says about the address (e.g. mail differs from the primary SMTP address).
    source_dn: str | None = None
    secondary_addresses: tuple[str, ...] = ()
    directory_notes: tuple[str, ...] = ()

    @property
    def is_probe_user(self) -> bool:
        return self.password_env is not None


def read_targets(path: Path, lookup: Callable[[str], str | None]) -> tuple[Target, ...]:
    """Parses and validates the file; every problem names the file, the line and the fix."""
    try:
        text = path.read_text(encoding="utf-8-sig")  # a BOM from Excel is tolerated
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}) — save it as CSV UTF-8") from None
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if len(line) > MAX_LINE:
            raise ConfigError(f"{path}:{number}: the line has {len(line)} characters — a row holds one address (at "
                              "most 254 characters) and optionally a variable name; is this the right file?")
    try:
        return _parse(path, csv.reader(lines), lookup)
    except csv.Error as exc:
        raise ConfigError(f"{path}: not readable as CSV ({exc}) — save it as CSV UTF-8, comma-separated") from None


def _parse(path: Path, rows, lookup: Callable[[str], str | None]) -> tuple[Target, ...]:
    header = next(rows, None)
    if not header or not any(cell.strip() for cell in header):
        raise ConfigError(f"{path}:1: the file is empty — add a header row 'email,password_env' and one row per mailbox")
    columns = [cell.strip().lower() for cell in header]
    if "email" not in columns:
        hint = " (the file uses ';' — save it comma-separated)" if ";" in ",".join(header) else ""
        raise ConfigError(f"{path}:1: no 'email' column in the header{hint} — the first row must name the columns, e.g. email,password_env")
    email_col = columns.index("email")
    password_col = columns.index("password_env") if "password_env" in columns else None
    seen: dict[str, int] = {}
    targets: list[Target] = []
    for line, row in enumerate(rows, start=2):
        if not any(cell.strip() for cell in row):
            continue
        email = row[email_col].strip() if email_col < len(row) else ""
        if len(email) > 254:
            raise ConfigError(f"{path}:{line}: '{email[:40]}…' has {len(email)} characters — an e-mail address has at "
                              "most 254; write the mailbox's primary SMTP address")
        if not _ADDRESS.match(email):
            if ";" in email or "," in email:
                raise ConfigError(f"{path}:{line}: '{email}' holds several addresses — write one address per row")
            raise ConfigError(f"{path}:{line}: '{email}' is not an e-mail address — write the mailbox's primary SMTP address")
        if email.lower() in seen:
            raise ConfigError(f"{path}:{line}: {email} is listed twice (first on line {seen[email.lower()]}) — keep one row")
        seen[email.lower()] = line
        password_env = row[password_col].strip() if password_col is not None and password_col < len(row) else ""
        if password_env:
            if password_env.upper().startswith(_RESERVED_PREFIXES):
                raise ConfigError(f"{path}:{line}: password_env {password_env[:40]} uses a prefix reserved for the suite's settings — name the variable e.g. PROBE_ALICE_PASSWORD")
            if not _VARIABLE.match(password_env) or len(password_env) > 100:
                raise ConfigError(f"{path}:{line}: password_env '{password_env[:40]}' is not a variable name — name the environment variable that holds the password, never the password itself")
            if lookup(password_env) is None:
                raise ConfigError(f"{path}:{line}: {password_env} is not set — set it in the environment or .env to the password of {email}")
        targets.append(Target(email=email, line=line, password_env=password_env or None))
    if not targets:
        raise ConfigError(f"{path}: no mailbox rows after the header — add one row per mailbox Riva will sync")
    return tuple(targets)
