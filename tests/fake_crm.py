"""An in-memory stand-in for CrmApi (the same methods, no HTTP), for unit tests of probes, ledger and sweep."""

from __future__ import annotations

import itertools

from readiness.client import PAGE_SIZE
from readiness.errors import AccessDenied, CrmTimeout, NotFound, Refused


class FakeCrm:
    """Records by (model, id); filters match by prefix, as 1CRM's do; every call is kept in `calls`.

    meta: model -> the reply of GET /meta/fields/{Model} (missing: 404).
    refuse(model, data) -> a 400 message or None; reply_id(model, new_id) -> the id the create reply names;
    lose_reply: models whose create is stored but answered with a time-out; missing: models the server does not
    expose (their create answers 404).
    """

    def __init__(self, meta=None, *, username="alice", user_id="u-alice", refuse=None, reply_id=None, lose_reply=(),
                 deny=(), missing=()):
        self.meta, self.username, self.user_id = meta or {}, username, user_id
        self.refuse, self.reply_id, self.lose_reply, self.deny = refuse, reply_id, set(lose_reply), set(deny)
        self.missing = set(missing)
        self.records: dict[tuple[str, str], dict] = {}
        self.calls: list[tuple] = []
        self._ids = itertools.count(1)

    def seed(self, model: str, record: dict) -> str:
        record_id = record.get("id") or f"seed-{next(self._ids)}"
        self.records[(model, record_id)] = {**record, "id": record_id}
        return record_id

    def fields_meta(self, model):
        self.calls.append(("meta", model))
        if model not in self.meta:
            raise NotFound(f"meta/fields/{model}: not found", status=404)
        return self.meta[model]

    def create(self, model, data):
        self.calls.append(("create", model, dict(data)))
        if ("create", model) in self.deny:
            raise AccessDenied("Access denied", status=403)
        if model in self.missing:
            raise NotFound(f"data/{model}: not found (Model {model} not found)", status=404)
        words = self.refuse(model, data) if self.refuse else None
        if words:
            raise Refused(f"HTTP 400 for data/{model}: {words}", reason=words, status=400)
        record_id = f"{model}-{next(self._ids)}"
        self.records[(model, record_id)] = {**data, "id": record_id, "assigned_user_id": self.user_id,
                                            "created_by": self.user_id, "modified_user_id": self.user_id}
        if model in self.lose_reply:
            raise CrmTimeout("crm.example.com did not answer within 30 s")
        return self.reply_id(model, record_id) if self.reply_id else record_id

    def read(self, model, record_id, *, fields=()):
        self.calls.append(("read", model, record_id))
        if (model, record_id) not in self.records:
            raise NotFound(f"data/{model}/{record_id}: not found", status=404)
        record = self.records[(model, record_id)]
        return {k: v for k, v in record.items() if not fields or k in fields or k == "id"}

    def update(self, model, record_id, data):
        self.calls.append(("update", model, record_id))
        self.read(model, record_id)
        self.records[(model, record_id)].update(data, modified_user_id=self.user_id)

    def delete(self, model, record_id):
        self.calls.append(("delete", model, record_id))
        if ("delete", model) in self.deny:
            raise AccessDenied("Access denied", status=403)
        self.read(model, record_id)
        del self.records[(model, record_id)]

    def list(self, model, *, fields=(), filters=None, order=None, page_size=PAGE_SIZE):
        self.calls.append(("list", model, dict(filters or {})))
        if model not in self.meta and not any(m == model for m, _ in self.records):
            raise NotFound(f"data/{model}: not found", status=404)
        rows = [r for (m, _), r in self.records.items() if m == model]
        for name, value in (filters or {}).items():
            rows = [r for r in rows if str(r.get(name) or "").lower().startswith(value.lower())]  # prefix, any case
        for offset in range(0, len(rows), page_size):
            self.calls.append(("page", model, offset))
            for row in rows[offset:offset + page_size]:
                yield {k: v for k, v in row.items() if not fields or k in fields or k == "id"}

    def writes(self, model=None, record_id=None) -> list[tuple]:
        return [c for c in self.calls if c[0] in ("update", "delete") and (model is None or c[1] == model)
                and (record_id is None or c[2] == record_id)]
