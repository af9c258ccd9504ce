"""From outcomes to findings to one verdict (G6), and the files that carry it.

Three kinds of "not passed": `failed` (the server is not ready), `error` (the check could not run)
and `unverified` (the check ran, but this server or this run gives it no way to decide; the message
says why and what to check by hand). `skipped` is only for what does not apply.

NO-GO when a blocking finding failed or errored (or the run was interrupted);
INCOMPLETE when none did but a blocking finding is `unverified` (not attested); GO otherwise.
PARTIAL, no verdict, when scenarios were deselected (-k, -m): whatever it found, a part is not the whole.
Advisory findings never change the verdict.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

from . import root_causes, summary_notes
from .catalogue import REQUIREMENTS, STEPS, Requirement
from .outcome import Outcome

PASSED, FAILED, SKIPPED, WAIVED, ERROR = "passed", "failed", "skipped", "waived", "error"
UNVERIFIED, ATTESTED = "unverified", "attested"
GO, NO_GO, INCOMPLETE, PARTIAL = "GO", "NO-GO", "INCOMPLETE", "PARTIAL"
EXIT_CODES = {GO: 0, NO_GO: 1, INCOMPLETE: 101, PARTIAL: 1}  # a partial run is never read as GO
# The words a skipped scenario's message starts with, for JUnit readers and Allure's categories.
UNVERIFIED_WORD, ATTESTED_WORD = "UNVERIFIED:", "ATTESTED:"


@dataclass(frozen=True)
class Finding:
    """One entry of readiness.json: a requirement's outcome, per subject where it is judged per user."""

    id: str
    step: int
    title: str
    status: str
    blocking: bool
    message: str
    subject: str | None = None
    because_of: str | None = None  # not checked: this earlier requirement failed of the cause this one met
    causes: tuple[str, ...] = ()  # what the check met (readiness/root_causes.py); not part of readiness.json

    @classmethod
    def of(cls, requirement: Requirement, status: str, message: str, *, blocking: bool | None = None,
           subject: str | None = None) -> Finding:
        return cls(requirement.id, requirement.step, requirement.title, status,
                   requirement.blocking if blocking is None else blocking, message, subject)

    @property
    def stops_go_live(self) -> bool:
        return self.blocking and self.status in (FAILED, ERROR)

    @property
    def leaves_incomplete(self) -> bool:
        return self.blocking and self.status == UNVERIFIED


def findings_from_outcomes(requirement: Requirement, outcomes: list[Outcome]) -> list[Finding]:
    """One finding per subject: failed if any outcome failed (blocking unless all failures are advisory),
    else unverified if any outcome could not be verified (a part not verified is not passed), else passed."""
    by_subject: dict[str | None, list[Outcome]] = {}
    for outcome in outcomes:
        by_subject.setdefault(outcome.subject, []).append(outcome)
    findings = []
    for subject, group in by_subject.items():
        failed = [o for o in group if not o.passed and o.verifiable]
        unverifiable = [o for o in group if not o.verifiable]
        if failed:
            status, shown = FAILED, failed
        elif unverifiable:
            status, shown = UNVERIFIED, unverifiable
        else:
            status, shown = PASSED, group
        blocking = requirement.blocking and (status == PASSED or any(not o.advisory for o in shown))
        findings.append(Finding.of(requirement, status, "; ".join(o.message for o in shown), blocking=blocking,
                                   subject=subject))
    return findings


def not_checked(findings: list[Finding]) -> list[Finding]:
    """One root cause, one finding: the first check of Step 1 that failed of a cause (an untrusted certificate, a
    closed port, a refused password) keeps its finding; each later check of another requirement that met the same
    cause and did not pass is an error "not checked: R1.2 failed first", since what it found is that cause again.
    A check that did not run because of one root is no root of its own."""
    order = {rid: n for n, rid in enumerate(REQUIREMENTS)}
    roots: dict[str, Finding] = {}
    grouped: dict[int, Finding] = {}
    for index, finding in sorted(enumerate(findings), key=lambda pair: order.get(pair[1].id, len(order))):
        causes = (*finding.causes, root_causes.ADDRESS)  # a wrong address is every check's cause
        root = next((roots[c] for c in causes if c in roots and _depends(finding, roots[c], c, order)), None)
        if root is not None:
            finding = replace(finding, status=ERROR, message=f"not checked: {root.id} failed first",
                              because_of=root.id)
        elif finding.step == 1 and finding.status in (FAILED, ERROR):
            for cause in finding.causes:
                roots.setdefault(cause, finding)
        grouped[index] = finding
    return [grouped[index] for index in range(len(findings))]


def _depends(finding: Finding, root: Finding, cause: str, order: dict[str, int]) -> bool:
    return (finding.status in (FAILED, ERROR, UNVERIFIED) and finding.id != root.id
            and order.get(finding.id, len(order)) > order[root.id] and not root_causes.owns(finding.id, cause))


@dataclass(frozen=True)
class Verdict:
    word: str  # GO, NO-GO or INCOMPLETE
    reasons: tuple[str, ...]

    @property
    def go(self) -> bool:
        return self.word == GO

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.word]


def decide(findings: list[Finding], not_evaluated: list[str] = (), interrupted: str | None = None,
           cleanup_problems: list[str] = (), *, selection_error: str | None = None) -> Verdict:
    if selection_error and not findings:
        return Verdict(PARTIAL, (f"no verdict: pytest refused the selection ({selection_error}); no check ran",))
    reasons = _blocking_reasons(findings, lambda f: f.stops_go_live)
    if interrupted:
        reasons.insert(0, interrupted)
    reasons += [f"cleanup: {problem}" for problem in cleanup_problems]
    if not findings:
        reasons.append("no requirement was evaluated")
    unverified = _blocking_reasons(findings, lambda f: f.leaves_incomplete)
    if not_evaluated and not interrupted and not cleanup_problems:
        return Verdict(PARTIAL, (f"no verdict: {', '.join(not_evaluated)} not evaluated (scenarios deselected)",
                                 *reasons, *unverified))
    if not_evaluated:
        reasons.append(f"partial run: {', '.join(not_evaluated)} not evaluated")
    word = NO_GO if reasons else INCOMPLETE if unverified else GO
    return Verdict(word, tuple(reasons + unverified))  # NO-GO still names what was not verified


def _blocking_reasons(findings: list[Finding], counts) -> list[str]:
    """One reason per requirement and status, counting subjects: short even with thousands of targets; a root
    cause first, with the checks that could not run because of it."""
    order = {rid: n for n, rid in enumerate(REQUIREMENTS)}
    grouped: dict[tuple[str, str], list[Finding]] = {}
    dependents: dict[str, set[str]] = {}
    for finding in findings:
        if not counts(finding):
            continue
        if finding.because_of:
            dependents.setdefault(finding.because_of, set()).add(finding.id)
        else:
            grouped.setdefault((finding.id, finding.status), []).append(finding)

    def could_not_run(root: str) -> str:
        ids = sorted(dependents.pop(root), key=lambda rid: order.get(rid, len(order)))
        return f"{len(ids)} {'check' if len(ids) == 1 else 'checks'} could not run ({', '.join(ids)})"

    reasons = []
    for (rid, status), group in sorted(grouped.items(), key=lambda item: item[0][0] not in dependents):
        if rid in dependents:
            reasons.append(f"{rid} {status}, so {could_not_run(rid)}")
            continue
        subjects = [f.subject for f in group if f.subject]
        if not subjects:
            reasons.append(f"{rid} {status}")
        elif len(subjects) == 1:
            reasons.append(f"{rid} {status} ({subjects[0]})")
        else:
            reasons.append(f"{rid} {status} for {len(subjects)} targets")
    for root in list(dependents):  # the root itself was waived: what it kept from running still stops go-live
        reasons.append(f"{root} failed first, so {could_not_run(root)}")
    return reasons


def not_covered(implemented: set[str]) -> list[str]:
    """Catalogue requirements this version of the suite has no scenario for (said, never hidden)."""
    return [rid for rid in REQUIREMENTS if rid not in implemented]


SHOWN_STATUSES = (FAILED, ERROR, UNVERIFIED, WAIVED, ATTESTED, SKIPPED, PASSED)


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def configuration_error(message: str) -> dict:
    """The readiness.json of a run stopped by bad input: never leaves an earlier GO in place."""
    return {"verdict": "NO-GO", "reasons": [f"configuration: {message}"], "generated_at": _now(), "checks": []}


def report(verdict: Verdict, findings: list[Finding], **meta) -> dict:
    """The readiness.json document; its keys are a public interface."""
    order = {rid: n for n, rid in enumerate(REQUIREMENTS)}
    checks = sorted(findings, key=lambda f: (order.get(f.id, len(order)), f.subject or ""))
    return {
        "verdict": verdict.word,
        "reasons": list(verdict.reasons),
        "crm_url": meta.get("crm_url"),
        "version": meta.get("version"),
        "edition": meta.get("edition"),
        "generated_at": _now(),
        "mode": meta.get("mode"),
        "run_id": meta.get("run_id"),
        "change_ticket": meta.get("change_ticket"),
        "suite_version": meta.get("suite_version"),
        "not_covered": meta.get("not_covered", []),
        "checks": [{k: v for k, v in asdict(f).items() if k != "causes"} for f in checks],
        "waivers": meta.get("waivers", []),  # every waiver of the file: state applied, expired or unused
        "attestations": meta.get("attestations", []),  # every attestation of the file, with its state
        "rest_api": meta.get("rest_api"),  # None where not detected; else {"available": bool, "detail": str}
    }


def write_json(path: Path, document: dict) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(document, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    temporary.replace(path)  # never leave a half-written verdict for CI to read


def summary_lines(document: dict) -> list[str]:
    """The short terminal summary, by step; plain ASCII so any Windows console shows it."""
    lines = [f"CRM {document['crm_url']} | {document.get('version') or 'version unknown'} "
             f"{document.get('edition') or ''} | mode {document['mode']}".replace("  ", " ")]
    rest_api = document.get("rest_api")
    if rest_api and not rest_api["available"]:
        lines.append(f"NO REST API: {rest_api['detail']}")
    checks = document["checks"]
    for step, title in STEPS.items():
        mine = [c for c in checks if c["step"] == step]
        if not mine:
            continue
        counts = [(sum(c["status"] == status for c in mine), status) for status in SHOWN_STATUSES]
        tally = ", ".join(f"{n} {status}" for n, status in counts if n)
        lines.append(f"Step {step}  {title:<40} {tally}")
        for check in mine:
            if check.get("because_of"):
                continue
            if check["status"] in (FAILED, ERROR, UNVERIFIED, WAIVED, ATTESTED):
                kind = "blocking" if check["blocking"] else "advisory"
                subject = f" [{check['subject']}]" if check["subject"] else ""
                lines.append(f"    {check['status'].upper()} ({kind}) {check['id']}{subject}: {check['message']}")
            elif note := summary_notes.note_for(check):  # passed, but not the way it was asked to
                lines.append(f"    NOTE {note}")
        for root in dict.fromkeys(c["because_of"] for c in mine if c.get("because_of")):  # one line, not one each
            ids = dict.fromkeys(c["id"] for c in mine if c.get("because_of") == root)
            lines.append(f"    NOT CHECKED, {root} failed first: {', '.join(ids)}")
    for waiver in document.get("waivers", []):
        subject = f" [{waiver['subject']}]" if waiver["subject"] else ""
        lines.append(f"Waiver {waiver['state']}: {waiver['requirement']}{subject} ({waiver['ticket']}, until "
                     f"{waiver['expires']}) - {waiver['note']}")
    for entry in document.get("attestations", []):
        subject = f" [{entry['subject']}]" if entry["subject"] else ""
        ticket = f", ticket {entry['ticket']}" if entry.get("ticket") else ""
        lines.append(f"Attestation {entry['state']}: {entry['requirement']}{subject} (by {entry['attested_by']}, "
                     f"checked {entry['date']}, until {entry['expires']}{ticket}) - {entry['explanation']} - "
                     f"{entry['note']}")
    if document.get("not_covered"):
        lines.append(f"Not covered by this suite version: {', '.join(document['not_covered'])}")
    reasons = f" - {'; '.join(document['reasons'])}" if document["reasons"] else ""
    lines.append(f"VERDICT: {document['verdict']}{reasons}")
    return lines
