"""The Allure labels of a scenario: the catalogue's step and requirement, its severity, the change ticket."""

from __future__ import annotations

import allure

from ..catalogue import STEPS, Requirement
from ..config import Settings


def label(requirement: Requirement, settings: Settings | None) -> None:
    allure.dynamic.epic("Riva readiness")
    allure.dynamic.feature(f"Step {requirement.step}: {STEPS[requirement.step]}")
    allure.dynamic.story(f"{requirement.id} {requirement.title}")
    allure.dynamic.severity(allure.severity_level.BLOCKER if requirement.blocking else allure.severity_level.MINOR)
    ticket = settings.change_ticket if settings else None
    if ticket:
        # Without READINESS_TICKET_URL, an "issue" link: --allure-link-pattern issue:… can still complete it.
        url = settings.ticket_url
        allure.dynamic.link(url or ticket, link_type="link" if url else "issue", name=f"Change {ticket}")
