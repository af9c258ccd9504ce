"""Step 4: the target users (R4.1 to R4.5), one Outcome per target mailbox."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass

from . import probes, roles
from .errors import CrmError
from .outcome import Outcome
from .run import ReadinessRun
from .targets import Target
from .users import CrmUser


def target_list(run: ReadinessRun) -> Outcome:
    """R4.1: the file was validated when the settings were read; here: is there one at all?"""
    s = run.settings
    if s.targets_file is None:
        return Outcome.fail("no target list: set RIVA_TARGETS_FILE to a CSV of the mailboxes Riva will sync "
                            "(column email; optional password_env for probe users)")
    probe_users = sum(t.is_probe_user for t in s.targets)
    return Outcome.ok(f"{s.targets_file.name} lists {len(s.targets)} mailboxes, {probe_users} of them probe users")


def matches(run: ReadinessRun) -> list[Outcome]:
    """R4.2: every mailbox against one listing of the CRM users."""
    if not run.settings.targets:
        return [Outcome.not_verifiable("no target list (see R4.1): set RIVA_TARGETS_FILE and run again")]
    return [run.directory.match(t.email).outcome for t in run.settings.targets]


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


def run_probes(run: ReadinessRun, users: list[ProbeUser]) -> dict[str, tuple[ProbeUser, str | None, list]]:
    """address -> (probe user, sign-in problem, probe results); probes run once per process."""
    results = {}
    for probe_user in users:
        if probe_user.user is None:
            results[probe_user.target.email] = (probe_user, None, [])
        else:
            results[probe_user.target.email] = (probe_user, *run.probe(probe_user.target, probe_user.user))
    return results


def crud(results) -> list[Outcome]:
    """R4.4"""
    outcomes = []
    for address, (probe_user, problem, probe_results) in results.items():
        if probe_user.user is None:
            outcomes.append(Outcome.not_verifiable("no CRM user to sign in as (see R4.2)", subject=address))
        elif problem:
            outcomes.append(Outcome.fail(problem, subject=address))
        else:
            outcomes.append(probes.crud_outcome(address, probe_user.user, probe_results))
    return outcomes


def ownership(results) -> list[Outcome]:
    """R4.5"""
    outcomes = []
    for address, (probe_user, problem, probe_results) in results.items():
        if probe_user.user is None or problem:
            outcomes.append(Outcome.not_verifiable(f"{address} could not be probed (see R4.4)", subject=address))
        else:
            outcomes.append(probes.ownership_outcome(address, probe_user.user, probe_results))
    return outcomes
