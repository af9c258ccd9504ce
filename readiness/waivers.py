"""Waivers (G5): an approved exception turns a failed check into `waived`, with its reasons on record.

The file (READINESS_WAIVERS_FILE) is YAML:

    waivers:
      - requirement: R1.2                 # a catalogue ID
        subject: anna@example.com         # optional: only this target address
        justification: Internal CA, rolled out to the Riva host by GPO
        approved_by: J. Smith (change board)
        ticket: CHG-1234
        expires: 2026-12-31               # valid through the end of that day, UTC

Rules a change board can rely on:
- A waiver covers a `failed` check only. An `error` means the check could not run: nothing was
  judged, so there is nothing to waive.
- An expired waiver counts as no waiver; the report says it was ignored.
- The file is parsed strictly before any request: an unknown key, an unknown requirement, a
  missing field, a date that is not YYYY-MM-DD, or a duplicate stops the run, naming the entry.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from .catalogue import REQUIREMENTS
from .errors import ConfigError, read_input_file
from .verdict import ERROR, FAILED, PASSED, WAIVED, Finding

FIELDS = ("requirement", "subject", "justification", "approved_by", "ticket", "expires")
REQUIRED = ("requirement", "justification", "approved_by", "ticket", "expires")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")

APPLIED, EXPIRED, UNUSED = "applied", "expired", "unused"
MAX_DEPTH = 10  # the format nests 3 deep; the YAML composer recurses per level and would overflow


@dataclass(frozen=True)
class Waiver:
    requirement: str
    justification: str
    approved_by: str
    ticket: str
    expires: date
    subject: str | None = None
    line: int = 0

    def covers(self, requirement: str, subject: str | None) -> bool:
        return self.requirement == requirement and (self.subject is None or _same(self.subject, subject))

    def expired_on(self, day: date) -> bool:
        """Valid through the end of `expires` in UTC: on the next UTC day it has expired."""
        return day > self.expires

    def describe(self) -> str:
        return (f"{self.justification} (approved by {self.approved_by}, ticket {self.ticket}, "
                f"valid until {self.expires.isoformat()} UTC)")

    @property
    def label(self) -> str:
        return f"{self.requirement}{f' [{self.subject}]' if self.subject else ''}"


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().lower() == b.strip().lower()


def today_utc(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()


# -- reading the file --------------------------------------------------------------------------


def read_waivers(path: Path) -> tuple[Waiver, ...]:
    """Parses and validates the whole file; raises ConfigError naming the entry and the field."""
    text = read_input_file(path)
    try:
        # Nodes, not Python objects: each value keeps its line and its text exactly as written,
        # so '2026-12-31' is judged the same whether YAML would make it a date or a string.
        _check_depth(path, text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}" if mark else str(path)
        raise ConfigError(f"{where}: not valid YAML ({getattr(exc, 'problem', None) or exc}) — "
                          "see the README, section Waivers, for the format") from None
    if root is None:
        raise ConfigError(f"{path}: the file is empty — write 'waivers: []' for none, or list waivers under 'waivers:'")
    top = _mapping(root, f"{path}:{root.start_mark.line + 1}: the file", "a mapping with one key, waivers")
    if set(top) != {"waivers"}:
        unknown = ", ".join(sorted(set(top) - {"waivers"})) or "nothing"
        raise ConfigError(f"{path}:{root.start_mark.line + 1}: expected one top-level key 'waivers' (found {unknown}) — "
                          "list the waivers under 'waivers:'")
    entries = top["waivers"][1]
    if not isinstance(entries, yaml.SequenceNode):
        raise ConfigError(f"{path}:{entries.start_mark.line + 1}: 'waivers' must be a list of entries (- requirement: …)")
    waivers: list[Waiver] = []
    seen: dict[tuple[str, str | None], int] = {}
    for index, node in enumerate(entries.value, start=1):
        waiver = _entry(path, index, node)
        key = (waiver.requirement, waiver.subject.lower() if waiver.subject else None)
        if key in seen:
            raise ConfigError(f"{path}:{waiver.line}: waiver #{index} (line {waiver.line}) duplicates waiver #{seen[key]} "
                              f"for {waiver.label} — keep one entry per requirement and subject")
        seen[key] = index
        waivers.append(waiver)
    return tuple(waivers)


def _check_depth(path: Path, text: str) -> None:
    """Refuses deep nesting before composing (the event parser is iterative, the composer is not)."""
    depth = 0
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            depth += 1
            if depth > MAX_DEPTH:
                raise ConfigError(f"{path}:{event.start_mark.line + 1}: nested more than {MAX_DEPTH} levels deep — a "
                                  "waivers file is a list of entries under 'waivers:' (README, section Waivers)")
        elif isinstance(event, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            depth -= 1


def _mapping(node, what: str, expected: str) -> dict[str, tuple[yaml.Node, yaml.Node]]:
    if not isinstance(node, yaml.MappingNode):
        raise ConfigError(f"{what} must be {expected}")
    result: dict[str, tuple[yaml.Node, yaml.Node]] = {}
    for key_node, value_node in node.value:
        key = key_node.value if isinstance(key_node, yaml.ScalarNode) else str(key_node.tag)
        if key in result:
            raise ConfigError(f"{what}: field '{key}' is given twice (lines {result[key][0].start_mark.line + 1} and "
                              f"{key_node.start_mark.line + 1}) — keep one")
        result[key] = (key_node, value_node)
    return result


def _entry(path: Path, index: int, node) -> Waiver:
    line = node.start_mark.line + 1
    entry = f"{path}:{line}: waiver #{index} (line {line})"
    fields = _mapping(node, entry, f"a mapping of {', '.join(FIELDS)}")
    for key, (key_node, _) in fields.items():
        if key not in FIELDS:
            raise ConfigError(f"{path}:{key_node.start_mark.line + 1}: waiver #{index} (line {line}): unknown field "
                              f"'{key}' — the fields are {', '.join(FIELDS)}")
    values: dict[str, object] = {}
    for name in FIELDS:
        if name not in fields:
            if name in REQUIRED:
                raise ConfigError(f"{entry}: field '{name}' is missing — every waiver needs {', '.join(REQUIRED)}")
            continue
        value_node = fields[name][1]
        where = f"{path}:{value_node.start_mark.line + 1}: waiver #{index} (line {line}): field '{name}'"
        text = _text(value_node, where)
        if name == "expires":
            values[name] = _date(text, where)
        elif name == "requirement":
            if text not in REQUIREMENTS:
                raise ConfigError(f"{where}: '{text}' is not a requirement of the catalogue — use an ID such as R1.2 "
                                  "(README, What it checks)")
            values[name] = text
        else:
            values[name] = text
    return Waiver(line=line, **values)


def _text(node, where: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        raise ConfigError(f"{where}: needs a value — write text on the same line")
    text = node.value.strip()
    if not text:
        raise ConfigError(f"{where}: is empty — write a value")
    return text


def _date(text: str, where: str) -> date:
    try:
        if _ISO_DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise ConfigError(f"{where}: '{text}' is not a date — write YYYY-MM-DD, e.g. 2026-12-31 (valid through that day, UTC)")


# -- applying them -----------------------------------------------------------------------------


@dataclass(frozen=True)
class WaiverBook:
    """The run's waivers as of one UTC day (the run's start), so every process judges alike."""

    waivers: tuple[Waiver, ...]
    day: date

    def find(self, requirement: str, subject: str | None) -> Waiver | None:
        """The most specific waiver for this finding (a subject's own before a general one)."""
        matching = [w for w in self.waivers if w.covers(requirement, subject)]
        matching.sort(key=lambda w: w.subject is None)
        return matching[0] if matching else None

    def active(self, requirement: str, subject: str | None) -> Waiver | None:
        waiver = self.find(requirement, subject)
        return waiver if waiver and not waiver.expired_on(self.day) else None

    def apply(self, findings: list[Finding]) -> tuple[list[Finding], list[dict]]:
        """Failed findings an active waiver covers become `waived`; returns them and the ledger of every waiver."""
        notes: dict[Waiver, list[str]] = {w: [] for w in self.waivers}
        used: set[Waiver] = set()
        result = []
        for finding in findings:
            waiver = self.find(finding.id, finding.subject)
            if waiver is None:
                result.append(finding)
                continue
            who = f"{finding.id}{f' [{finding.subject}]' if finding.subject else ''}"
            if waiver.expired_on(self.day):
                if finding.status == FAILED:
                    finding = replace(finding, message=f"{finding.message} (waiver expired on "
                                                       f"{waiver.expires.isoformat()}: not applied)")
            elif finding.status == FAILED:
                finding = replace(finding, status=WAIVED, message=f"{finding.message} - WAIVED: {waiver.describe()}")
                used.add(waiver)
                notes[waiver].append(f"waives {who}")
            elif finding.status == ERROR:
                notes[waiver].append(f"{who} could not be checked (error); a waiver covers failed checks only")
            elif finding.status == PASSED:
                notes[waiver].append(f"{who} passed")
            result.append(finding)
        ledger = []
        for waiver in self.waivers:
            state = EXPIRED if waiver.expired_on(self.day) else APPLIED if waiver in used else UNUSED
            note = {
                EXPIRED: f"expired on {waiver.expires.isoformat()}: ignored, counts as no waiver",
                APPLIED: "; ".join(notes[waiver]),
                UNUSED: "; ".join(notes[waiver]) or "no finding of this run matches it",
            }[state]
            entry = {k: v for k, v in asdict(waiver).items() if k != "line"}
            ledger.append({**entry, "expires": waiver.expires.isoformat(), "state": state, "note": note})
        return result, ledger


def waived_message(waivers: list[tuple[str, Waiver]]) -> str:
    """The skip reason of a waived scenario: the word Allure categories and JUnit readers look for."""
    return "WAIVED: " + "; ".join(f"{what} - {w.describe()}" for what, w in waivers)
