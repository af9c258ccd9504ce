"""What a scenario concluded: the steps hand the recorder Outcomes from the domain library."""

from __future__ import annotations

import allure
import pytest

from ..catalogue import Requirement
from ..outcome import Outcome
from ..redaction import Redactor
from ..verdict import UNVERIFIED_WORD
from ..waivers import AttestationBook, WaiverBook, attested_message, waived_message


ADVISORY_WORD = "ADVISORY:"


class CheckFailed(AssertionError):
    """A requirement is not met; the message is the finding, not a traceback."""


class CheckRecorder:
    """A scenario whose outcomes include one that could not be verified (and none that failed unwaived) is
    shown skipped with "UNVERIFIED: …" (or "ATTESTED: …" where an attestation covers it), a waived one with
    "WAIVED: …", one whose only failures are advisory with "ADVISORY: …"; the controller decides each finding's
    status from the same outcomes."""

    def __init__(self, requirement: Requirement, redactor: Redactor, waivers: WaiverBook | None = None,
                 attestations: AttestationBook | None = None):
        self.requirement = requirement
        self.redactor = redactor
        self.waivers = waivers
        self.attestations = attestations
        self.outcomes: list[Outcome] = []
        self.facts: dict[str, object] = {}
        self.waived = False
        self.deferred = False  # skipped on its outcomes: the controller makes the findings from them

    def expect(self, outcome: Outcome) -> Outcome:
        return self.expect_all([outcome])[0]

    def expect_all(self, outcomes: list[Outcome]) -> list[Outcome]:
        self.outcomes.extend(outcomes)
        rid = self.requirement.id
        failed = [o for o in outcomes if not o.passed and o.verifiable]
        unverifiable = [o for o in outcomes if not o.verifiable]
        waived = [(o, self.waivers.active(rid, o.subject)) for o in failed] if failed and self.waivers else []
        unwaived = failed and not (waived and all(w for _, w in waived))
        if unwaived and not all(o.advisory for o in failed):
            raise CheckFailed(self.redactor.text(f"{rid} " + "; ".join(o.message for o in failed)))
        if unwaived and not unverifiable:
            # Never a failed test case: a CI that marks a build unstable on any failed test would so mark a GO run.
            self.deferred = True
            allure.dynamic.tag("advisory")
            pytest.skip(self.redactor.text(f"{ADVISORY_WORD} {rid} " + "; ".join(_about(o) for o in failed)))
        if unverifiable:
            self.deferred = True
            attested = [(o, self.attestations.active(rid, o.subject) if self.attestations else None) for o in unverifiable]
            if all(a for _, a in attested):
                allure.dynamic.tag("attested")
                pytest.skip(self.redactor.text(attested_message([(f"{rid} {_about(o)}", a) for o, a in attested])))
            allure.dynamic.tag("unverified")
            pytest.skip(self.redactor.text(f"{UNVERIFIED_WORD} {rid} " + "; ".join(_about(o) for o in unverifiable)))
        if failed:
            # Shown as skipped with the waiver's words (Allure, JUnit); the controller records `waived`.
            self.waived = self.deferred = True
            allure.dynamic.tag("waived")
            pytest.skip(self.redactor.text(waived_message([(f"{rid} {o.message}", waiver) for o, waiver in waived])))
        return outcomes

    def note(self, **facts) -> None:
        """Facts for the run's summary (version, edition, ...), carried to the controller."""
        self.facts.update(facts)


def _about(outcome: Outcome) -> str:
    return f"[{outcome.subject}] {outcome.message}" if outcome.subject else outcome.message
