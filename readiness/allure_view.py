"""What a requirement's page of the Allure report shows: its result first, without allure-pytest-bdd's noise.

allure-pytest-bdd records every argument of a step function as a step parameter (here: fixtures, i.e. the
run's objects, by repr), labels each result with the host, thread, framework and language, and writes an
exception as "module.Class: message" with its traceback. For a finding (the check ran and concluded) the
class and the traceback are noise; for a defect of the suite they are the evidence, and stay.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from allure_commons.types import LabelType

from .verdict import ATTESTED, ATTESTED_WORD, ERROR, FAILED, PASSED, SKIPPED, UNVERIFIED, WAIVED, Finding

NOISE_LABELS = frozenset({LabelType.HOST, LabelType.THREAD, LabelType.FRAMEWORK, LabelType.LANGUAGE})
ADVISORY = "advisory"
SHOWN_RESULTS = 10  # per-target requirements: the worst first, the rest are in readiness.json
_WORST_FIRST = (FAILED, ERROR, UNVERIFIED, WAIVED, ATTESTED, ADVISORY, SKIPPED, PASSED)


def tidy(result: dict, hidden_parameters: Collection[str], quiet: Iterable[type[BaseException]]) -> dict:
    """A result as written by allure-commons (a dict): no noise labels, no step parameter in
    hidden_parameters, and the status details of a `quiet` exception as its message alone."""
    names = exception_names(quiet)
    tidied = _tidy_item(result, hidden_parameters, names)
    if "labels" in tidied:
        tidied["labels"] = [label for label in tidied["labels"] if label.get("name") not in NOISE_LABELS]
    return tidied


def _tidy_item(item: dict, hidden: Collection[str], names: set[str], step: bool = False) -> dict:
    item = dict(item)
    if step and "parameters" in item:
        item["parameters"] = [p for p in item["parameters"] if p.get("name") not in hidden]
        if not item["parameters"]:
            del item["parameters"]  # as allure-commons writes an empty list: not at all
    if item.get("statusDetails"):
        item["statusDetails"] = quiet_details(item["statusDetails"], names)
    if "steps" in item:
        item["steps"] = [_tidy_item(s, hidden, names, step=True) for s in item["steps"]]
    return item


def quiet_details(details: dict, names: Collection[str]) -> dict:
    """"pkg.CheckFailed: R1.1 refused" with a traceback -> "R1.1 refused" alone, for the exception names given
    (as Python's traceback module prints them, which is how Allure writes a message)."""
    message = details.get("message") or ""
    for name in names:
        if message.startswith(f"{name}: "):
            return {**{k: v for k, v in details.items() if k != "trace"},
                    "message": message.removeprefix(f"{name}: ").rstrip("\n")}
    return details


def exception_names(kinds: Iterable[type[BaseException]]) -> set[str]:
    """Every name traceback.format_exception_only may print for these classes and their subclasses."""
    names, todo = set(), list(kinds)
    while todo:
        kind = todo.pop()
        todo.extend(kind.__subclasses__())
        module = kind.__module__
        names.add(kind.__qualname__ if module in ("builtins", "__main__") else f"{module}.{kind.__qualname__}")
    return names


def result_lines(findings: list[Finding], skip_reason: str | None = None) -> list[str]:
    """A scenario's findings as "status: message" lines, worst first, as its report shows them: a scenario
    skipped as WAIVED or ATTESTED shows those findings so; a failure that cannot stop the go-live is advisory."""
    def shown(finding: Finding) -> str:
        if finding.status == FAILED and (skip_reason or "").startswith("WAIVED:"):
            return WAIVED
        if finding.status == UNVERIFIED and (skip_reason or "").startswith(ATTESTED_WORD):
            return ATTESTED
        if finding.status == FAILED and not finding.blocking:
            return ADVISORY
        return finding.status

    rows = sorted(((shown(f), f) for f in findings),
                  key=lambda row: _WORST_FIRST.index(row[0]) if row[0] in _WORST_FIRST else 0)
    lines = [f"{status} [{f.subject}]: {f.message}" if f.subject else f"{status}: {f.message}"
             for status, f in rows[:SHOWN_RESULTS]]
    if len(rows) > SHOWN_RESULTS:
        lines.append(f"... and {len(rows) - SHOWN_RESULTS} more (readiness.json lists every one)")
    return lines


def description(lines: list[str], text: str | None) -> str:
    """The result lines first, then the feature's and the scenario's own description (Markdown paragraphs)."""
    return "\n\n".join([*lines, *([text] if text else [])])
