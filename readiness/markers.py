"""The mark every probe record carries, and how marked records are found again.

A probe record's title is the marker and the run id; its description is the probe's own sentence with the
run id and a token of its own. Nothing is modified or deleted before a read shows that mark (a server's
create reply may name somebody else's record), and leftovers are found only through filters the model
advertises, confirmed client-side, because filters match by prefix (1crm-api.md §3).
"""

from __future__ import annotations

import itertools
import re
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from .client import PAGE_SIZE, CrmApi
from .errors import Refused
from .fields_meta import FieldsMeta

MARKER = "riva-readiness-probe"
DESCRIPTION = "Created by the Riva readiness suite to test a target user's rights; safe to delete."
PROBE_TITLE = re.compile(rf"^{MARKER} \d{{8}}T\d{{6}}Z-[0-9a-f]{{6}}$")  # MARKER + run id
TITLE_FIELDS = {"Contact": "last_name", "Lead": "last_name"}
MAX_PAGES = 25  # a model without a usable filter is paged through this far (5,000 records), no further


def title_field(model: str) -> str:
    return TITLE_FIELDS.get(model, "name")


def marker_fields(model: str) -> list[str]:
    return ["id", title_field(model), "description"]


def is_probe_record(model: str, record: dict) -> bool:
    """A record of any run of this suite: the exact marker title and the probe's description."""
    return bool(PROBE_TITLE.match(str(record.get(title_field(model)) or ""))) and \
        str(record.get("description") or "").startswith(DESCRIPTION)


@dataclass(frozen=True)
class Marker:
    """The mark of one record this run creates: only a record that carries it is ever changed."""

    model: str
    title: str
    description: str

    @classmethod
    def new(cls, model: str, run_id: str) -> Marker:
        token = secrets.token_hex(4)  # tells this record from the run's other records of the model
        return cls(model, f"{MARKER} {run_id}", f"{DESCRIPTION} Run {run_id}, record {token}.")

    @property
    def title_field(self) -> str:
        return title_field(self.model)

    def data(self) -> dict:
        return {self.title_field: self.title, "description": self.description}

    @property
    def modified_description(self) -> str:
        return f"{self.description} Modified."

    def matches(self, record: dict) -> bool:
        return str(record.get(self.title_field) or "") == self.title and \
            str(record.get("description") or "").startswith(self.description)


@dataclass(frozen=True)
class Search:
    records: list[dict]  # the confirmed matches
    how: str  # how the model was searched, for the evidence
    complete: bool  # False: the paging limit was reached before the end of the list


def find_marked(api: CrmApi, model: str, meta: FieldsMeta, prefix: str, accept: Callable[[dict], bool], *,
                max_pages: int = MAX_PAGES) -> Search:
    """Records whose title starts with `prefix`, through the model's advertised title filter if it has one
    (else by paging, bounded), each confirmed by `accept`. A list that cannot be read raises CrmError."""
    title = title_field(model)
    fields = [*marker_fields(model), "assigned_user_id", "assigned_user"]
    limit = max_pages * PAGE_SIZE

    def confirmed(records: list[dict]) -> list[dict]:
        out = []
        for record in records:
            if str(record.get(title) or "").startswith(prefix) and "description" not in record and record.get("id"):
                record = {**record, **api.read(model, str(record["id"]), fields=marker_fields(model))}  # a thin list
            if accept(record):
                out.append(record)
        return out

    if title in meta.filters:
        try:
            records, complete = _bounded(api.list(model, fields=fields, filters={title: prefix}), limit)
            how = f"filter {title}={prefix}" + ("" if complete else f", stopped after {max_pages} pages")
            return Search(confirmed(records), how, complete)
        except Refused as exc:
            why = f"its advertised filter '{title}' was refused ({exc.reason})"
    elif meta.readable:
        why = f"{model} advertises no filter on '{title}'"
    else:
        why = f"{model}'s filters are unknown ({meta.problem})"
    records, complete = _bounded(api.list(model, fields=fields), limit)
    how = f"{why}: paged through {len(records)} records"
    if not complete:
        how += f" and stopped at the limit of {max_pages} pages — records beyond it were not looked at"
    return Search(confirmed(records), how, complete)


def _bounded(records: Iterable[dict], limit: int) -> tuple[list[dict], bool]:
    found = list(itertools.islice(records, limit + 1))
    return found[:limit], len(found) <= limit
