"""Step 4: the target users (R4.1 to R4.5), one Outcome per target mailbox."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import NamedTuple

from . import probes, roles
from .config import Settings
from .errors import CrmError
from .ldap_targets import DirectoryTargets
from .outcome import Outcome
from .run import ReadinessRun
from .targets import Target
from .users import CrmUser, Directory


def target_list(s: Settings) -> list[Outcome]:
    """R4.1: the file (or the directory) was validated when the settings were read; here: is there a list at all,
    and what did the directory say about the entries that are not mailboxes Riva can sync?"""
    probe_users = sum(t.is_probe_user for t in s.targets)
    if s.directory is not None:
        return _directory_list(s.directory, s.targets, probe_users)
    if s.targets_file is None:
        return [Outcome.fail("no target list: set RIVA_TARGETS_FILE to a CSV of the mailboxes Riva will sync "
                             "(column email; optional password_env for probe users), or RIVA_TARGETS_LDAP_URL to "
                             "read them from the directory")]
    return [Outcome.ok(f"{s.targets_file.name} lists {len(s.targets)} mailboxes, {probe_users} of them probe users")]


def _directory_list(directory: DirectoryTargets, targets: tuple[Target, ...], probe_users: int) -> list[Outcome]:
    evidence = {"source": directory.source, "groups": list(directory.groups), "entries_read": directory.entries}
    if targets:
        nested = f", {len(directory.groups) - 1} nested groups followed" if len(directory.groups) > 1 else ""
        outcomes = [Outcome.ok(f"the directory's {directory.source} has {len(targets)} mailboxes{nested} "
                               f"({directory.entries} entries read), {probe_users} of them probe users",
                               evidence=evidence)]
    else:
        outcomes = [Outcome.fail(f"the directory's {directory.source} has no mailbox Riva can sync — check the group "
                                 "or filter", evidence=evidence)]
    for finding in directory.findings:
        outcomes.append(Outcome(False, finding.message, subject=finding.subject, advisory=not finding.blocking,
                                verifiable=finding.verifiable))
    for target in targets:
        outcomes += [Outcome.fail(f"{target.source_dn}: {note}", subject=target.email, advisory=True)
                     for note in target.directory_notes]
    return outcomes


def matches(targets: tuple[Target, ...], directory: Callable[[], Directory]) -> list[Outcome]:
    """R4.2: every mailbox against one listing of the CRM users (read only if there are targets); a mailbox from
    the directory also names its entry, and a mismatch says which of its addresses the CRM holds where."""
    if not targets:
        return [Outcome.not_verifiable("no target list (see R4.1): set RIVA_TARGETS_FILE and run again")]
    users = directory()
    outcomes = [users.match(t.email).outcome for t in targets]
    if any(t.source_dn for t in targets):
        index = _by_address(users.users)
        outcomes = [_with_directory_facts(t, o, index) if t.source_dn else o for t, o in zip(targets, outcomes)]
    return outcomes


def _by_address(users: list[CrmUser]) -> dict[tuple[str, str], list[CrmUser]]:
    """(field, normalised address) -> the CRM users holding it there."""
    index: dict[tuple[str, str], list[CrmUser]] = {}
    for user in users:
        for name in ("email1", "email2"):
            if getattr(user, name):
                index.setdefault((name, getattr(user, name).strip().casefold()), []).append(user)
    return index


def _with_directory_facts(target: Target, outcome: Outcome, index: dict[tuple[str, str], list[CrmUser]]) -> Outcome:
    """The R4.2 message, with the mailbox's primary SMTP address, its directory entry and (on a mismatch) the
    CRM user holding one of its addresses in the wrong place."""
    address, message = target.email, outcome.message
    if not outcome.passed and not index.get(("email1", address.casefold())):  # no CRM user has it as primary
        holders = index.get(("email2", address.casefold()), [])
        if holders:
            message = "; ".join(f"the CRM user {u.label} has {u.email1 or 'no address'} as primary and {address} only "
                                f"as e-mail 2" for u in holders) + f" — make {address} its primary e-mail"
        elif user := next((u for secondary in target.secondary_addresses
                           for u in index.get(("email1", secondary.casefold()), [])), None):
            message = (f"no CRM user has it as primary e-mail; the CRM user {user.label} has {user.email1} as primary, "
                       "which is only a secondary smtp: address of this mailbox — Riva uses the primary SMTP address: "
                       f"make {address} the CRM user's primary e-mail (or {user.email1} the mailbox's primary SMTP "
                       "address)")
    evidence = {**outcome.evidence, "source_dn": target.source_dn, "secondary_addresses": list(target.secondary_addresses)}
    return replace(outcome, message=f"primary SMTP {address} ({target.source_dn}): {message}", evidence=evidence)


def target_facts(run: ReadinessRun) -> dict[str, dict[str, str]]:
    """mailbox -> the CRM user it matched, that user's status and roles: the per-target table's columns."""
    facts = {}
    try:
        book = run.roles
    except CrmError:
        book = None  # evidence only: R4.3 reports why roles cannot be read
    if book is not None and book.problem:
        book = None
    for target in run.settings.targets:
        user = run.directory.match(target.email).user
        if user is None:
            facts[target.email] = {"crm_user": "", "user_status": "", "roles": ""}
            continue
        kind = user.kind_problem.removeprefix("is ") if user.kind_problem else \
            "not verifiable" if user.unknown else "active"
        names = "(not readable)" if book is None else \
            ", ".join(h.role.name + h.via for h in book.held_by(user) if h.role.id != roles.GAP_ID)
        facts[target.email] = {"crm_user": user.label, "user_status": kind,
                               "roles": "administrator" if user.is_admin else names or "(none)"}
    return facts


TABLE_CHECKS = ("R4.2", "R4.3", "R4.4", "R4.5")
# A cell starting with one of these runs as a formula in Excel, LibreOffice or Sheets (OWASP, CSV injection);
# the full-width forms too, which some spreadsheets fold to the ASCII ones.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "\uff1d", "\uff0b", "\uff0d", "\uff20")


def csv_cell(value) -> str:
    """A cell a spreadsheet shows as text: a leading formula character is preceded by a single quote."""
    text = str(value)
    return f"'{text}" if text.startswith(FORMULA_STARTS) else text


def role_names(facts: dict[str, dict[str, str]], subject: str | None) -> list[str]:
    """The roles of the target user a mailbox matched (from target_facts): what else its findings go by,
    so an attestation for role 'Sales' covers its holders."""
    fact = next((f for mailbox, f in facts.items() if subject and mailbox.lower() == subject.strip().lower()), None)
    if not fact or fact["roles"].startswith("("):
        return []
    return [name.strip() for name in fact["roles"].split(",") if name.strip()]


def target_table(facts: dict[str, dict[str, str]], statuses: dict[tuple[str, str], str]) -> str:
    """The per-target evidence as CSV: mailbox, CRM user, status, roles and the verdict of each check.

    User and role names come from the CRM: every cell is quoted and neutralised (csv_cell)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_ALL)
    writer.writerow(["mailbox", "crm_user", "user_status", "roles", *TABLE_CHECKS])
    for mailbox, fact in facts.items():
        writer.writerow([csv_cell(cell) for cell in (mailbox, fact["crm_user"], fact["user_status"], fact["roles"],
                         *(statuses.get((check, mailbox), "not run") for check in TABLE_CHECKS))])
    return out.getvalue()


def role_rights(run: ReadinessRun) -> list[Outcome]:
    """R4.3: each distinct role read once; each matched target user judged in memory."""
    pairs = run.matched_targets()
    if not pairs:
        why = f" ({run.directory.problem}, see R3.3)" if run.directory.problem else " (see R4.2)"
        return [Outcome.not_verifiable(f"no target address matches a CRM user Riva can act as{why}")]
    book = run.roles
    if book.problem:
        modules = ", ".join(roles.MODULES.get(m, m) for m in run.settings.datatypes)
        return [Outcome.not_verifiable(
            f"not verifiable through the API: {book.problem}; the probes of R4.4 are the evidence for the probe users "
            f"only — check by hand: in 1CRM, Admin → User Management, note the roles of the user of {t.email} (and of "
            f"its teams), then Admin → Roles → each of them: {modules} allow Access (Enabled), View, List, Edit, "
            "Delete, Import and Export", subject=t.email) for t, _ in pairs]
    return [roles.judge(t.email, user, book, run.settings.datatypes, probe_user=t.is_probe_user) for t, user in pairs]


@dataclass(frozen=True)
class ProbeUser:
    target: Target
    user: CrmUser | None  # None: the address matches no CRM user Riva can act as


def probe_users(run: ReadinessRun) -> list[ProbeUser] | Outcome:
    """The targets with credentials, or why none can be probed: this run cannot decide R4.4 and R4.5,
    so the Outcome is not verifiable and names what to check by hand."""
    s = run.settings
    modules = ", ".join(roles.MODULES.get(m, m) for m in s.datatypes)
    by_hand = (f"check by hand: sign in to 1CRM in a browser as one or two target users, create, open, modify and "
               f"delete a record of each of {modules}; each record shows that user as Assigned to, Created by and "
               "Modified by")
    if s.read_only:
        return Outcome.not_verifiable(f"read-only mode: no probe record is created — run again without "
                                      f"READINESS_MODE=read-only, or {by_hand}")
    wanted = [t for t in s.targets if t.is_probe_user]
    if not wanted:
        return Outcome.not_verifiable(f"no probe users: give one or two rows of the target list a password_env column "
                                      f"(Riva recommends two test users), or {by_hand}")
    matched = dict((t.email, user) for t, user in run.matched_targets())
    return [ProbeUser(t, matched.get(t.email)) for t in wanted]


class Probed(NamedTuple):
    probe_user: ProbeUser
    problem: str | None  # why it could not sign in
    results: list[probes.ProbeResult]  # one per datatype; none without a CRM user or a sign-in


def run_probes(run: ReadinessRun, users: list[ProbeUser]) -> dict[str, Probed]:
    """address -> what probing its user gave; probes run once per process."""
    results = {}
    for probe_user in users:
        if probe_user.user is None:
            results[probe_user.target.email] = Probed(probe_user, None, [])
        else:
            results[probe_user.target.email] = Probed(probe_user, *run.probe(probe_user.target, probe_user.user))
    return results


def crud(results: dict[str, Probed]) -> list[Outcome]:
    """R4.4"""
    outcomes = []
    for address, probed in results.items():
        if probed.probe_user.user is None:
            outcomes.append(Outcome.not_verifiable("no CRM user to sign in as (see R4.2)", subject=address))
        elif probed.problem:
            outcomes.append(Outcome.fail(probed.problem, subject=address))
        else:
            outcomes.append(probes.crud_outcome(address, probed.probe_user.user, probed.results))
    return outcomes


def ownership(results: dict[str, Probed]) -> list[Outcome]:
    """R4.5"""
    outcomes = []
    for address, probed in results.items():
        if probed.probe_user.user is None or probed.problem:
            outcomes.append(Outcome.not_verifiable(
                f"{address} could not be probed (see R4.4) — check by hand: in 1CRM, open a record of each synced "
                f"module made by the user of {address}: it shows that user as Assigned to, Created by and Modified by",
                subject=address))
        else:
            outcomes.append(probes.ownership_outcome(address, probed.probe_user.user, probed.results))
    return outcomes
