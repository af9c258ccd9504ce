"""The cleanup ledger (G2): every record the suite creates is registered the moment its id is
known, and undone in reverse order, after failures and interruptions too. Nothing else is deleted.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from .client import CrmApi
from .deadline import cleanup_budget
from .errors import AccessDenied, CrmError, NotFound
from .interrupts import deferred_interrupts


@dataclass(frozen=True)
class Entry:
    model: str
    record_id: str
    creator: CrmApi  # deletes first as the user who created it; the connection user is the fallback


class Ledger:
    def __init__(self, fallback: Callable[[], CrmApi]):
        self._fallback = fallback
        self._entries: list[Entry] = []
        self._lock = threading.Lock()

    @property
    def pending(self) -> list[Entry]:
        with self._lock:
            return list(self._entries)

    def create(self, creator: CrmApi, model: str, data: dict) -> str:
        """Creates a record and registers it as one step: an interrupt arriving meanwhile waits until the id is
        registered (at most one request's deadline, cut to a few seconds by the interrupt), so no record the suite
        made can escape the ledger unless the server does not answer."""
        with deferred_interrupts():
            record_id = creator.create(model, data)
            with self._lock:
                self._entries.append(Entry(model, record_id, creator))
        return record_id

    def settled(self, model: str, record_id: str) -> None:
        """The check itself deleted the record and verified it is gone."""
        with self._lock:
            self._entries = [e for e in self._entries if (e.model, e.record_id) != (model, record_id)]

    def undo(self) -> list[str]:
        """Deletes what is still registered, newest first, and verifies each deletion; returns what failed."""
        problems = []
        # A second Ctrl-C must not leave a half-cleaned CRM; after the run's time limit, clean-up has its own budget.
        with deferred_interrupts(), cleanup_budget():
            for entry in reversed(self.pending):
                problem = self._remove(entry)
                if problem:
                    problems.append(problem)
                else:
                    self.settled(entry.model, entry.record_id)
        return problems

    def _remove(self, entry: Entry) -> str | None:
        for api in (entry.creator, None):
            api = api or self._fallback()
            try:
                api.delete(entry.model, entry.record_id)
            except NotFound:
                pass  # already gone: verified below
            except AccessDenied:
                continue  # the creator's role may deny delete: the connection user (an administrator) can
            except CrmError as exc:
                return f"{entry.model} {entry.record_id}: {exc}"
            if is_gone(api, entry.model, entry.record_id):
                return None
        return f"{entry.model} {entry.record_id}: could not be deleted"


def is_gone(api: CrmApi, model: str, record_id: str) -> bool:
    try:
        api.read(model, record_id, fields=["id"])
    except NotFound:
        return True
    return False
