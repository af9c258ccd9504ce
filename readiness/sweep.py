"""Removes probe records left behind by interrupted runs (G2), and nothing else.

Leftovers are found through the filter each model advertises on its title field (GET /meta/fields/{Model});
filters match by prefix, so every candidate is confirmed client-side: its title must be exactly the probe
marker with a run id, its description the probe's own sentence. A model without such a filter is paged
through, bounded, and the output says so. Records are found whoever they are assigned to.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .client import CrmApi
from .config import KNOWN_DATATYPES, Settings
from .errors import CrmError, NotFound
from .ledger import is_gone
from .markers import MARKER, find_marked, is_probe_record, marker_fields, title_field
from .run import ReadinessRun


@dataclass(frozen=True)
class Leftover:
    model: str
    record_id: str
    title: str
    owner: str


@dataclass
class SweepReport:
    found: list[Leftover] = field(default_factory=list)
    removed: list[Leftover] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # what could not be removed or searched
    notes: list[str] = field(default_factory=list)  # how models without a usable filter were searched


def crm_looked_at(settings: Settings) -> str:
    """The CRM a sweep works on, for its output: the address and the connection user, never a secret."""
    return f"{settings.crm.base} as {settings.username or '(no CRM_USERNAME)'}"


def find_leftovers(run: ReadinessRun, report: SweepReport, *, max_pages: int | None = None) -> None:
    api = run.connection_api
    for model in KNOWN_DATATYPES:
        try:
            options = {} if max_pages is None else {"max_pages": max_pages}
            search = find_marked(api, model, run.fields_meta(model, api), MARKER,
                                 lambda record, m=model: is_probe_record(m, record), **options)
        except NotFound as exc:
            report.notes.append(f"{model}: not searched, the API does not expose it on this server ({exc})")
            continue
        except CrmError as exc:
            report.problems.append(f"{model} could not be searched: {exc}")
            continue
        if not search.how.startswith("filter ") or not search.complete:
            report.notes.append(f"{model}: {search.how}")
        for record in search.records:
            owner = record.get("assigned_user") or record.get("assigned_user_id") or "unknown"
            report.found.append(Leftover(model, str(record["id"]), str(record[title_field(model)]), str(owner)))


def sweep(run: ReadinessRun, *, dry_run: bool, max_pages: int | None = None) -> SweepReport:
    """What was found, removed or not; with dry_run nothing is deleted."""
    report = SweepReport()
    find_leftovers(run, report, max_pages=max_pages)
    if dry_run:
        return report
    api: CrmApi = run.connection_api
    for leftover in report.found:
        problem = remove(api, leftover)
        if problem:
            report.problems.append(problem)
        else:
            report.removed.append(leftover)
    return report


def remove(api: CrmApi, leftover: Leftover) -> str | None:
    """Read again, confirmed by its mark, deleted, verified gone."""
    where = f"{leftover.model} {leftover.record_id}"
    try:
        record = api.read(leftover.model, leftover.record_id, fields=marker_fields(leftover.model))
        if not is_probe_record(leftover.model, record):
            return f"{where} no longer carries the probe's mark: left untouched"
        api.delete(leftover.model, leftover.record_id)
        if not is_gone(api, leftover.model, leftover.record_id):
            return f"{where} is still readable after delete"
    except NotFound:
        return None  # gone meanwhile
    except CrmError as exc:
        return f"{where}: {exc}"
    return None
