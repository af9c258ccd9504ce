"""Waivers (G5) and attestations (G7): the change board's exceptions and the admin's manual checks, on record.

The file (READINESS_WAIVERS_FILE) is YAML with one or both lists:

    waivers:
      - requirement: R1.2                 # a catalogue ID
        subject: anna@example.com         # optional: only this target address
        justification: Internal CA, rolled out to the Riva host by GPO
        approved_by: J. Smith (change board)
        ticket: CHG-1234
        expires: 2026-12-31               # valid through the end of that day, UTC
    attestations:
      - requirement: R4.3
        subject: Sales                    # optional: a target address or a role name
        explanation: Admin > Roles > Sales checked: Contacts, Leads, ... allow Access, Edit, Delete, Import, Export
        attested_by: M. Jones (CRM administrator)
        date: 2026-11-30                  # when it was checked by hand
        expires: 2027-02-28
        ticket: CHG-1234                  # optional

Rules a change board can rely on:
- A waiver covers a `failed` check only. An `error` means the check could not run: nothing was
  judged, so there is nothing to waive.
- An attestation covers an `unverified` check only (the suite had no way to decide, a person
  checked it by hand); never a `failed` or an `error` one.
- An expired waiver or attestation counts as none; the report says it was ignored.
- The file is parsed strictly before any request: an unknown key, an unknown requirement, a
  missing field, a date that is not YYYY-MM-DD, a value still holding the <placeholder> of
  `python -m readiness attest`, or a duplicate stops the run, naming the entry, its line and the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path

import yaml

from .catalogue import REQUIREMENTS
from .errors import ConfigError, read_input_file
from .verdict import ATTESTED, ERROR, FAILED, PASSED, UNVERIFIED, WAIVED, Finding

FIELDS = ("requirement", "subject", "justification", "approved_by", "ticket", "expires")
REQUIRED = ("requirement", "justification", "approved_by", "ticket", "expires")
ATTESTATION_FIELDS = ("requirement", "subject", "explanation", "attested_by", "date", "expires", "ticket")
ATTESTATION_REQUIRED = ("requirement", "explanation", "attested_by", "date", "expires")
_DATES = ("expires", "date")
_ISO_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_PLACEHOLDER = re.compile(r"^<.*>$", re.S)  # what `python -m readiness attest` leaves to fill in

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


@dataclass(frozen=True)
class Attestation:
    """A person checked by hand what the suite could not verify on this server."""

    requirement: str
    explanation: str
    attested_by: str
    date: date
    expires: date
    subject: str | None = None  # a target address or a role name
    ticket: str | None = None
    line: int = 0

    def covers(self, requirement: str, names: Iterable[str | None]) -> bool:
        """`names`: the finding's subject and what else it goes by (the roles of a target address)."""
        return self.requirement == requirement and (self.subject is None or any(_same(self.subject, n) for n in names))

    def expired_on(self, day: date) -> bool:
        return day > self.expires

    def describe(self) -> str:
        ticket = f", ticket {self.ticket}" if self.ticket else ""
        return (f"{self.explanation} (attested by {self.attested_by}, checked on {self.date.isoformat()}{ticket}, "
                f"valid until {self.expires.isoformat()} UTC)")

    @property
    def label(self) -> str:
        return f"{self.requirement}{f' [{self.subject}]' if self.subject else ''}"


def _same(a: str | None, b: str | None) -> bool:
    return a is not None and b is not None and a.strip().lower() == b.strip().lower()


def today_utc(now: datetime | None = None) -> date:
    return (now or datetime.now(UTC)).astimezone(UTC).date()


# -- reading the file --------------------------------------------------------------------------

_LISTS = ("waivers", "attestations")


@dataclass(frozen=True)
class _Kind:
    word: str  # in messages: "waiver #2 (line 7)"
    fields: tuple[str, ...]
    required: tuple[str, ...]
    make: Callable


_WAIVER = _Kind("waiver", FIELDS, REQUIRED, Waiver)
_ATTESTATION = _Kind("attestation", ATTESTATION_FIELDS, ATTESTATION_REQUIRED, Attestation)


def read_waivers(path: Path) -> tuple[Waiver, ...]:
    """The file's waivers; raises ConfigError naming the entry and the field."""
    return read_exceptions(path)[0]


def read_attestations(path: Path, today: date | None = None) -> tuple[Attestation, ...]:
    return read_exceptions(path, today)[1]


def read_exceptions(path: Path, today: date | None = None) -> tuple[tuple[Waiver, ...], tuple[Attestation, ...]]:
    """Parses and validates the whole file: (waivers, attestations)."""
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
                          "see the README, sections Waivers and Attestations, for the format") from None
    if root is None:
        raise ConfigError(f"{path}: the file is empty — write 'waivers: []' for none, or list waivers under 'waivers:' "
                          "and attestations under 'attestations:'")
    top = _mapping(root, f"{path}:{root.start_mark.line + 1}: the file", "a mapping with the keys waivers and/or attestations")
    if not top or set(top) - set(_LISTS):
        unknown = ", ".join(sorted(set(top) - set(_LISTS))) or "nothing"
        raise ConfigError(f"{path}:{root.start_mark.line + 1}: expected the top-level keys 'waivers' and/or "
                          f"'attestations' (found {unknown}) — list the entries under 'waivers:' or 'attestations:'")
    today = today or today_utc()
    waivers = _entries(path, top, "waivers", _WAIVER, today)
    return waivers, _entries(path, top, "attestations", _ATTESTATION, today)


def _entries(path: Path, top: dict, key: str, kind: _Kind, today: date) -> tuple:
    if key not in top:
        return ()
    entries = top[key][1]
    if not isinstance(entries, yaml.SequenceNode):
        raise ConfigError(f"{path}:{entries.start_mark.line + 1}: '{key}' must be a list of entries (- requirement: …)")
    result = []
    seen: dict[tuple[str, str | None], int] = {}
    for index, node in enumerate(entries.value, start=1):
        entry = _entry(path, index, node, kind, today)
        key_ = (entry.requirement, entry.subject.lower() if entry.subject else None)
        if key_ in seen:
            raise ConfigError(f"{path}:{entry.line}: {kind.word} #{index} (line {entry.line}) duplicates {kind.word} "
                              f"#{seen[key_]} for {entry.label} — keep one entry per requirement and subject")
        seen[key_] = index
        result.append(entry)
    return tuple(result)


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


def _entry(path: Path, index: int, node, kind: _Kind, today: date):
    line = node.start_mark.line + 1
    entry = f"{path}:{line}: {kind.word} #{index} (line {line})"
    fields = _mapping(node, entry, f"a mapping of {', '.join(kind.fields)}")
    for key, (key_node, _) in fields.items():
        if key not in kind.fields:
            raise ConfigError(f"{path}:{key_node.start_mark.line + 1}: {kind.word} #{index} (line {line}): unknown field "
                              f"'{key}' — the fields are {', '.join(kind.fields)}")
    values: dict[str, object] = {}
    for name in kind.fields:
        if name not in fields:
            if name in kind.required:
                raise ConfigError(f"{entry}: field '{name}' is missing — every {kind.word} needs "
                                  f"{', '.join(kind.required)}")
            continue
        value_node = fields[name][1]
        where = f"{path}:{value_node.start_mark.line + 1}: {kind.word} #{index} (line {line}): field '{name}'"
        text = _text(value_node, where)
        if name in _DATES:
            values[name] = _date(text, where)
        elif name == "requirement":
            if text not in REQUIREMENTS:
                raise ConfigError(f"{where}: '{text}' is not a requirement of the catalogue — use an ID such as R1.2 "
                                  "(README, What it checks)")
            values[name] = text
        else:
            values[name] = text
    if "date" in values:  # an attestation: checked by hand on a day that has come, before it expires
        where = f"{path}:{fields['date'][1].start_mark.line + 1}: {kind.word} #{index} (line {line}): field 'date'"
        if values["date"] > today:
            raise ConfigError(f"{where}: {values['date'].isoformat()} is in the future — write the day the check was "
                              "done by hand")
        if values["date"] > values["expires"]:
            raise ConfigError(f"{where}: {values['date'].isoformat()} is after its expiry "
                              f"{values['expires'].isoformat()} — check 'date' and 'expires'")
    return kind.make(line=line, **values)


def _text(node, where: str) -> str:
    if not isinstance(node, yaml.ScalarNode) or node.tag == "tag:yaml.org,2002:null":
        raise ConfigError(f"{where}: needs a value — write text on the same line")
    text = node.value.strip()
    if not text:
        raise ConfigError(f"{where}: is empty — write a value")
    if _PLACEHOLDER.match(text):
        raise ConfigError(f"{where}: still holds the placeholder {text} — write the real value")
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


@dataclass(frozen=True)
class AttestationBook:
    """The run's attestations as of one UTC day; `aliases(subject)` gives what else a subject goes by
    (the roles of a target user), so an attestation for role 'Sales' covers the targets holding it."""

    attestations: tuple[Attestation, ...]
    day: date
    aliases: Callable[[str | None], Iterable[str]] = lambda subject: ()

    def find(self, requirement: str, subject: str | None) -> Attestation | None:
        """The most specific attestation: the subject's own, then one of its aliases, then a general one.
        Aliases are looked up only when an attestation of this requirement names another subject."""
        mine = [a for a in self.attestations if a.requirement == requirement]
        own = [a for a in mine if a.subject is not None and _same(a.subject, subject)]
        others = [a for a in mine if a.subject is not None and not _same(a.subject, subject)]
        if not own and others and subject is not None:
            aliases = list(self.aliases(subject))
            own = [a for a in others if a.covers(requirement, aliases)]
        general = [a for a in mine if a.subject is None]
        return (own or general or [None])[0]

    def active(self, requirement: str, subject: str | None) -> Attestation | None:
        found = self.find(requirement, subject)
        return found if found and not found.expired_on(self.day) else None

    def apply(self, findings: list[Finding]) -> tuple[list[Finding], list[dict]]:
        """Unverified findings an active attestation covers become `attested`; returns them and the ledger."""
        notes: dict[Attestation, list[str]] = {a: [] for a in self.attestations}
        used: set[Attestation] = set()
        result = []
        for finding in findings:
            found = self.find(finding.id, finding.subject)
            if found is None:
                result.append(finding)
                continue
            who = f"{finding.id}{f' [{finding.subject}]' if finding.subject else ''}"
            if found.expired_on(self.day):
                if finding.status == UNVERIFIED:
                    finding = replace(finding, message=f"{finding.message} (attestation expired on "
                                                       f"{found.expires.isoformat()}: not applied)")
            elif finding.status == UNVERIFIED:
                finding = replace(finding, status=ATTESTED, message=f"{finding.message} - ATTESTED: {found.describe()}")
                used.add(found)
                notes[found].append(f"attests {who}")
            elif finding.status in (FAILED, WAIVED, ERROR):
                notes[found].append(f"{who} {'failed' if finding.status == WAIVED else finding.status}: an attestation "
                                    "covers unverified checks only (a waiver is for a failed check)")
            elif finding.status == PASSED:
                notes[found].append(f"{who} passed")
            result.append(finding)
        ledger = []
        for entry in self.attestations:
            state = EXPIRED if entry.expired_on(self.day) else APPLIED if entry in used else UNUSED
            note = {
                EXPIRED: f"expired on {entry.expires.isoformat()}: ignored, counts as no attestation",
                APPLIED: "; ".join(notes[entry]),
                UNUSED: "; ".join(notes[entry]) or "no unverified finding of this run matches it",
            }[state]
            values = {k: v for k, v in asdict(entry).items() if k != "line"}
            ledger.append({**values, "date": entry.date.isoformat(), "expires": entry.expires.isoformat(),
                           "state": state, "note": note})
        return result, ledger


def attested_message(attestations: list[tuple[str, Attestation]]) -> str:
    """The skip reason of an attested scenario (JUnit, Allure)."""
    return "ATTESTED: " + "; ".join(f"{what} - {a.describe()}" for what, a in attestations)
