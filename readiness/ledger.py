"""The cleanup ledger (G2): every record the suite creates is registered the moment its create is sent,
and undone in reverse order, after failures and interruptions too. Nothing else is touched.

Each entry keeps the record's mark. Before a delete, the record is read and must carry that mark: a
server's create reply may name somebody else's record. A create whose reply was lost, or named a record
that is not the probe's, leaves a "maybe created" entry without an id, which undo looks for by its mark.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .client import CrmApi
from .deadline import cleanup_budget
from .errors import AccessDenied, AuthenticationFailed, CrmError, NotFound, ReadinessError, UnexpectedReply
from .fields_meta import FieldsMeta
from .interrupts import deferred_interrupts
from .markers import Marker, find_marked, marker_fields

SWEEP_HINT = "run python -m readiness sweep"


@dataclass(frozen=True)
class Entry:
    marker: Marker
    record_id: str | None  # None: the record may exist, but the server never said its id
    creator: CrmApi  # deletes first as the user who created it; the connection user is the fallback

    @property
    def model(self) -> str:
        return self.marker.model


class Ledger:
    def __init__(self, fallback: Callable[[], CrmApi], meta: Callable[[CrmApi, str], FieldsMeta] | None = None):
        self._fallback = fallback
        self._meta = meta  # a model's field metadata: its advertised filters find "maybe created" records
        self._entries: list[Entry] = []
        self._lock = threading.Lock()

    @property
    def pending(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def create(self, creator: CrmApi, marker: Marker, data: dict) -> str:
        """Creates a record and registers it as one step: an interrupt arriving meanwhile waits until it is
        registered (at most one request's deadline, cut to a few seconds by the interrupt), so no record the suite
        made can escape the ledger unless the server does not answer."""
        with deferred_interrupts():
            try:
                record_id = creator.create(marker.model, data)
            except CrmError as exc:
                if not _refused(exc):
                    self._add(Entry(marker, None, creator))  # the reply was lost: the record may exist
                raise
            except BaseException:  # the run's time limit cut the create short: the record may exist too
                self._add(Entry(marker, None, creator))
                raise
            self._add(Entry(marker, record_id, creator))
        return record_id

    def disown(self, marker: Marker, record_id: str) -> None:
        """The id the server named is not the probe's record: never touch it; look for the probe's by its mark."""
        with self._lock:
            self._entries = [Entry(e.marker, None, e.creator) if (e.marker, e.record_id) == (marker, record_id)
                             else e for e in self._entries]

    def settled(self, model: str, record_id: str) -> None:
        """The check itself deleted the record and verified it is gone."""
        with self._lock:
            self._entries = [e for e in self._entries if (e.model, e.record_id) != (model, record_id)]

    def remove(self, marker: Marker, record_id: str) -> str | None:
        """Deletes one registered record now (confirmed by its mark, verified gone); returns what failed."""
        entry = next((e for e in self.pending if (e.marker, e.record_id) == (marker, record_id)), None)
        if entry is None:
            return None
        problem = self._undo(entry)
        if problem is None:
            self._drop(entry)
        return problem

    def undo(self) -> list[str]:
        """Deletes what is still registered, newest first, and verifies each deletion; returns what failed."""
        problems = []
        # A second Ctrl-C must not leave a half-cleaned CRM; after the run's time limit, clean-up has its own budget.
        with deferred_interrupts(), cleanup_budget():
            for entry in reversed(self.pending):
                problem = self._undo(entry)
                if problem:
                    problems.append(problem)
                else:
                    self._drop(entry)
        return problems

    # -- plumbing --------------------------------------------------------------------------------

    def _add(self, entry: Entry) -> None:
        with self._lock:
            self._entries.append(entry)

    def _drop(self, entry: Entry) -> None:
        with self._lock:
            self._entries = [e for e in self._entries if e is not entry]

    def _undo(self, entry: Entry) -> str | None:
        """What went wrong undoing one entry, if anything: one record's trouble never stops the others'."""
        try:
            return self._remove(entry) if entry.record_id else self._find_and_remove(entry)
        except (CrmError, ReadinessError) as exc:
            return f"{entry.model} {entry.record_id or entry.marker.title}: {exc}"

    def _remove(self, entry: Entry, *, found_by_mark: bool = False) -> str | None:
        model, record_id = entry.model, entry.record_id
        for api in (entry.creator, None):
            api = api or self._fallback()
            try:
                record = api.read(model, record_id, fields=marker_fields(model))
            except NotFound:
                return None  # gone already
            except (AccessDenied, AuthenticationFailed):
                continue  # the creator may not see it (any more): the connection user (an administrator) can
            except CrmError as exc:
                return f"{model} {record_id}: {exc}"
            if not entry.marker.matches(record):
                if found_by_mark:  # listed with the mark, read without it: the server contradicts itself
                    return f"{model} {record_id}: listed with the probe's mark, but read without it — left alone"
                # not the probe's record (the server named another one): leave it, look for the probe's
                return self._find_and_remove(Entry(entry.marker, None, entry.creator))
            try:
                api.delete(model, record_id)
            except NotFound:
                pass  # already gone: verified below
            except AccessDenied:
                continue  # the creator's role may deny delete: the connection user can
            except CrmError as exc:
                return f"{model} {record_id}: {exc}"
            if is_gone(api, model, record_id):
                return None
        return f"{model} {record_id}: could not be deleted"

    def _find_and_remove(self, entry: Entry) -> str | None:
        """A record the run may have created: found by its mark (as the connection user, who sees records
        whoever they were assigned to), confirmed, removed; what cannot be looked for is reported."""
        model, lost = entry.model, f"a {entry.model} probe record ('{entry.marker.title}') may have been created"
        if self._meta is None:
            return f"{lost} and cannot be looked for here — {SWEEP_HINT}"
        last_problem = "no user may list it"
        for api in (self._fallback(), entry.creator):
            try:
                search = find_marked(api, model, self._meta(api, model), entry.marker.title, entry.marker.matches)
            except (AccessDenied, AuthenticationFailed) as exc:
                last_problem = str(exc)
                continue
            except (CrmError, ReadinessError) as exc:
                return f"{lost} and could not be looked for ({exc}) — {SWEEP_HINT}"
            problems = [self._remove(Entry(entry.marker, str(r["id"]), entry.creator), found_by_mark=True)
                        for r in search.records if r.get("id")]
            problems = [p for p in problems if p]
            if problems:
                return "; ".join(problems)
            if not search.records and not search.complete:
                return f"{lost} and was not found ({search.how}) — {SWEEP_HINT}"
            return None
        return f"{lost} and could not be looked for ({last_problem}) — {SWEEP_HINT}"


def _refused(exc: CrmError) -> bool:
    """A clear 4xx answer: the server refused the create, so no record was made. # [assumed]"""
    return exc.status is not None and 400 <= exc.status < 500 and not isinstance(exc, UnexpectedReply)


def is_gone(api: CrmApi, model: str, record_id: str) -> bool:
    # [assumed] reading a deleted record answers 404 (1crm-api.md §3)
    try:
        api.read(model, record_id, fields=["id"])
    except NotFound:
        return True
    except AccessDenied:
        return False  # this user cannot tell: the next one asks
    return False
