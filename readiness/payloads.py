"""The probe record of each datatype, built from the server's own field metadata (1crm-api.md §5).

Every field the model marks `required` without a `default` gets a valid value for its type, enum values
come from the field's own `options`, and only fields the model has are sent. What the suite knows of
1CRM's models [source] fills the rest, and is all there is when the metadata cannot be read.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from faker import Faker

from .fields_meta import FieldInfo, FieldsMeta
from .markers import MARKER, Marker

DATE = "%Y-%m-%d"
DATETIME = "%Y-%m-%d %H:%M:%S"  # 1CRM's datetimes, in UTC (1crm-api.md §3)
ENUMS = frozenset({"enum", "multienum", "radioenum", "dynamicenum"})
REFERENCES = frozenset({"ref", "relate", "link", "id"})
DATES, DATETIMES = frozenset({"date"}), frozenset({"datetime", "datetimecombo"})
INTEGERS = frozenset({"int", "integer", "duration", "number"})
DECIMALS = frozenset({"currency", "decimal", "float", "double"})
# [assumed] the server sets these itself (ownership goes to the signed-in user), whatever the metadata says
SERVER_SET = frozenset({"id", "deleted", "date_entered", "date_modified", "assigned_user_id", "created_by",
                        "modified_user_id"})
# Required references 1CRM's models have without a default [source] -> the model they point to.
KNOWN_REFERENCES = {
    "Opportunity": {"account": "Account"},
    "Project": {"account": "Account"},
    "Email": {"folder_ref": "EmailFolder"},
}


def known_values(model: str, fake: Faker) -> dict:
    """The values the suite would choose for each model, 1CRM-shaped [source] (1crm-api.md §5)."""
    soon = fake.date_time_between(start_date="+1d", end_date="+30d").replace(microsecond=0)
    return {
        "Contact": {"first_name": fake.first_name(), "email1": fake.safe_email(), "phone_work": fake.phone_number()},
        "Lead": {"first_name": fake.first_name(), "email1": fake.safe_email(), "account_name": fake.company()},
        "Account": {"phone_office": fake.phone_number(), "website": f"https://{fake.domain_word()}.example.com"},
        "Meeting": {"date_start": soon, "duration": 30, "location": fake.city()},  # duration in minutes
        "Call": {"date_start": soon, "duration": 15, "direction": "Outbound"},
        "Task": {"date_due": soon, "priority": "P0", "status": "Not Started"},  # P0 = Low
        "Opportunity": {"amount": fake.random_int(1000, 90000), "date_closed": soon.date(), "sales_stage": "Prospecting"},
        "aCase": {"priority": "P3", "status": "Active - New"},  # P3 = Low
        "Email": {"date_start": soon, "from_addr": fake.safe_email(), "to_addrs": fake.safe_email()},
        # [assumed] 'Active - Starting Soon' among project_phase's values; the field's own options win
        "Project": {"date_starting": soon.date(), "date_ending": soon.date() + dt.timedelta(days=30),
                    "project_phase": "Active - Starting Soon"},
    }.get(model, {})


@dataclass(frozen=True)
class Payload:
    data: dict
    notes: tuple[str, ...] = ()  # what the evidence should say about how the record was built
    unmarkable: str | None = None  # the model has no field for the probe's mark: nothing may be written


def references(model: str, meta: FieldsMeta) -> dict[str, str | None]:
    """field -> the model it must point to (None: the server does not say), for each required reference."""
    wanted: dict[str, str | None] = {}
    for name, target in KNOWN_REFERENCES.get(model, {}).items():
        if not meta.readable or meta.has(name):
            wanted[name] = target
    for info in meta.fields.values():
        if info.name not in wanted and _needs_value(info) and info.type in REFERENCES:
            wanted[info.name] = info.target
    return wanted


def build_payload(model: str, meta: FieldsMeta, marker: Marker, fake: Faker, refs: dict[str, str]) -> Payload:
    """The probe record's data; `refs` holds the ids chosen for the references() of the model."""
    if not meta.readable:
        values = {**known_values(model, fake), **refs}
        note = (f"the field metadata of {model} could not be read ({meta.problem}): its probe record was built "
                "from the suite's known defaults")
        return Payload({**marker.data(), **{k: _format(v, None) for k, v in values.items()}}, (note,))
    missing = [name for name in marker.data() if not meta.has(name)]
    if missing:
        return Payload({}, (), f"the server's {model} has no field '{missing[0]}' to carry the probe's mark, so "
                               "the suite writes no record it could not recognise later")
    data, notes = dict(marker.data()), []
    for name, value in {**known_values(model, fake), **refs}.items():
        info = meta.get(name)
        if info is None or (not info.editable and name not in refs):
            continue  # only fields the model has, and may be set
        data[name] = _fit(model, info, value, notes)
    for info in meta.fields.values():
        if info.name in data or not _needs_value(info):
            continue
        value = _generated(info, fake)
        if value is None:
            notes.append(f"the required field '{info.name}' of {model} ({info.type or 'type not given'}) has no value "
                         "the probe can choose")
        else:
            data[info.name] = value
    return Payload(data, tuple(notes))


def _needs_value(info: FieldInfo) -> bool:
    return info.required and not info.has_default and info.editable and info.name not in SERVER_SET


def _fit(model: str, info: FieldInfo, value, notes: list[str]) -> str:
    """The suite's value in the field's own terms: its date format, one of its options."""
    if info.type in ENUMS and info.options and str(value) not in info.options:
        chosen = info.default if info.default in info.options else info.options[0]
        notes.append(f"{model}.{info.name}: '{value}' is not among the server's options, the probe chose '{chosen}'")
        return chosen
    return _format(value, info.type)


def _format(value, type_: str | None) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime(DATE if type_ in DATES else DATETIME)
    if isinstance(value, dt.date):
        return value.strftime(DATETIME if type_ in DATETIMES else DATE)
    return str(value)


def _generated(info: FieldInfo, fake: Faker) -> str | None:
    """A valid value for a required field the suite knows nothing else about, by its type."""
    moment = (dt.datetime.now(dt.UTC) + dt.timedelta(days=7)).replace(microsecond=0)
    kind = info.type
    if kind in ENUMS:
        return info.options[0] if info.options else None
    if kind in REFERENCES:
        return None  # a reference is chosen by the probe (references()), never made up
    if kind in DATES:
        return moment.strftime(DATE)
    if kind in DATETIMES:
        return moment.strftime(DATETIME)
    if kind in INTEGERS:
        return "1"
    if kind in DECIMALS:
        return "1.00"
    if kind in ("bool", "boolean", "checkbox"):
        return "0"
    if kind == "email":
        return fake.safe_email()
    if kind == "phone":
        return fake.phone_number()
    if kind == "url":
        return "https://www.example.com"
    return MARKER  # text of any kind (varchar, name, text, or a type not given)
