"""Removes probe records left behind by interrupted runs (G2), and nothing else.

A record qualifies only if its title is exactly the probe marker with a run id and its
description is the probe's own sentence. Probe records are assigned to the probe users, so
only their records are listed (a filter the API advertises), never every record of the CRM.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from .client import CrmApi
from .config import KNOWN_DATATYPES
from .errors import CrmError
from .ledger import is_gone
from .probes import is_probe_record, title_field
from .run import ReadinessRun


@dataclass(frozen=True)
class Leftover:
    model: str
    record_id: str
    title: str
    owner: str


def find_leftovers(run: ReadinessRun) -> Iterator[Leftover]:
    api = run.connection_api
    owners = [user for target, user in run.matched_targets() if target.is_probe_user]
    for model in KNOWN_DATATYPES:
        fields = ["id", title_field(model), "description"]
        for owner in owners:
            for record in api.list(model, fields=fields, filters={"assigned_user_id": owner.id}):
                if is_probe_record(model, record):
                    yield Leftover(model, str(record["id"]), str(record[title_field(model)]), owner.user_name)


def sweep(run: ReadinessRun, *, dry_run: bool) -> tuple[list[Leftover], list[str]]:
    """(records found, problems); with dry_run nothing is deleted."""
    found, problems = list(find_leftovers(run)), []
    if dry_run:
        return found, problems
    api: CrmApi = run.connection_api
    for leftover in found:
        try:
            api.delete(leftover.model, leftover.record_id)
            if not is_gone(api, leftover.model, leftover.record_id):
                problems.append(f"{leftover.model} {leftover.record_id} is still readable after delete")
        except CrmError as exc:
            problems.append(f"{leftover.model} {leftover.record_id}: {exc}")
    return found, problems
