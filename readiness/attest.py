"""`python -m readiness attest R4.3 --subject Sales`: a ready-to-fill attestation for an unverified finding.

It reads the last run's readiness.json, lists what the suite could not verify and what to check by
hand, and prints the YAML entry with a <placeholder> for everything a person must write. The
waivers file refuses an entry that still holds a placeholder, so pasting it unfilled never turns
anything into `attested`.
"""

from __future__ import annotations

from .errors import ReadinessError
from .verdict import UNVERIFIED


def _named(check: dict, subject: str) -> bool:
    """The finding is about this subject: its own, or the role (or address) its message names."""
    wanted = subject.strip().lower()
    return (check.get("subject") or "").strip().lower() == wanted or f"'{wanted}'" in check["message"].lower() \
        or wanted in (check.get("subject") or "").lower().split(", ")


def _label(requirement: str, subject: str | None) -> str:
    return f"{requirement} [{subject}]" if subject else requirement


def entry_for(document: dict, requirement: str, subject: str | None) -> str:
    unverified = [c for c in document.get("checks", []) if c["id"] == requirement and c["status"] == UNVERIFIED]
    where = f"the last run ({document.get('crm_url')}, run {document.get('run_id')})"
    if not unverified:
        raise ReadinessError(f"{where} has no unverified finding for {requirement}: an attestation covers unverified "
                             "checks only (a failed one needs a waiver, an error a new run)")
    chosen = [c for c in unverified if subject is None or _named(c, subject)]
    if not chosen:
        subjects = ", ".join(sorted({c["subject"] or "(no subject)" for c in unverified}))
        raise ReadinessError(f"{where} has no unverified finding for {requirement} about '{subject}' — its unverified "
                             f"findings are about: {subjects}")
    label = _label(requirement, subject)
    lines = [f"# Attestation for {label}, from {where}.",
             "# The suite could not verify, and says what to check by hand:"]
    lines += [f"#   - {_label(c['id'], c['subject'])}: {' '.join(c['message'].split())}" for c in chosen]
    lines += ["# Check it by hand, fill in every <...> below, and put the entry under 'attestations:' in the file",
              "# READINESS_WAIVERS_FILE names. It never covers a failed or errored check (a waiver is for a failed",
              "# one), and once expired it counts as none.",
              "attestations:",
              f"  - requirement: {requirement}"]
    if subject:
        lines.append(f"    subject: {subject}")
    lines += ['    explanation: "<what you checked by hand, where, and what you saw>"',  # quoted: text may hold ': '
              '    attested_by: "<your name and role>"',
              "    date: <YYYY-MM-DD, the day you checked>",
              "    expires: <YYYY-MM-DD, when it must be checked again>",
              "    # ticket: <the change ticket>   (optional)"]
    return "\n".join(lines) + "\n"
