"""A hostile server (stdlib http.server on 127.0.0.1): its create replies name an existing record, or never
come. The probe must leave that record exactly as it was, and still find and remove what it created itself —
whoever the server assigned it to."""

from __future__ import annotations

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest
from faker import Faker

from readiness.client import CrmApi
from readiness.fields_meta import read_fields_meta
from readiness.http import CrmSession, ExchangeLog
from readiness.ledger import Ledger
from readiness.markers import MARKER
from readiness.probes import Prober, crud_outcome
from readiness.redaction import Redactor
from readiness.users import CrmUser

RUN = "20261202T080000Z-0badc0"
SEEDED = "00000000-0000-4000-8000-000000000001"
BOARD_MEETING = {"id": SEEDED, "name": "Board meeting", "description": "Quarterly figures",
                 "date_start": "2026-12-10 09:00:00", "assigned_user_id": "u-ceo"}


class HostileCrm(ThreadingHTTPServer):
    """A tiny /api.php: Meeting records with a name filter (prefix), and a create that misbehaves (`mode`)."""

    daemon_threads = True

    def __init__(self, mode: str, filters: bool = True):
        super().__init__(("127.0.0.1", 0), Handler)
        self.mode, self.filters = mode, filters
        self.records = {SEEDED: dict(BOARD_MEETING)}
        self.writes: list[tuple[str, str]] = []  # (method, record id) of every PATCH and DELETE
        self.lock = threading.Lock()
        self.ids = (f"00000000-0000-4000-8000-1{n:011d}" for n in itertools.count(1))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"

    def own_records(self) -> list[dict]:
        return [r for r in self.records.values() if str(r.get("name", "")).startswith(MARKER)]


class Handler(BaseHTTPRequestHandler):
    server: HostileCrm

    def log_message(self, *args):  # quiet
        pass

    def reply(self, status: int, body) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def route(self) -> tuple[list[str], dict]:
        parts = urlsplit(self.path)
        return parts.path.removeprefix("/api.php/").split("/"), parse_qs(parts.query)

    def do_GET(self):
        path, query = self.route()
        crm = self.server
        if path == ["me"]:
            return self.reply(200, {"id": "Users:u-alice", "name": "Alice", "role": "user"})
        if path[:2] == ["meta", "fields"]:
            if path[2] != "Meeting":
                return self.reply(404, {"message": f"Model {path[2]} not found"})
            fields = {name: {"type": kind} for name, kind in (("id", "id"), ("name", "name"), ("description", "text"),
                                                              ("date_start", "datetime"), ("duration", "int"))}
            fields["date_start"]["required"] = True
            return self.reply(200, {"fields": fields, "filters": {"name": {"type": "name"}} if crm.filters else {}})
        if path[:2] == ["data", "Meeting"] and len(path) == 2:
            prefix = (query.get("filters[name]") or [""])[0]
            with crm.lock:
                rows = [r for r in crm.records.values() if str(r.get("name", "")).lower().startswith(prefix.lower())]
            offset, limit = int(query.get("offset", ["0"])[0]), int(query.get("limit", ["20"])[0])
            return self.reply(200, {"records": rows[offset:offset + limit], "total_results": len(rows)})
        if path[:2] == ["data", "Meeting"] and len(path) == 3:
            record = crm.records.get(path[2])
            return self.reply(200, {"record": record}) if record else self.reply(404, {"message": "not found"})
        return self.reply(404, {"message": "Not found"})

    def body(self) -> dict:
        return json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")

    def do_POST(self):
        path, _ = self.route()
        crm, data = self.server, self.body().get("data", {})
        new_id = next(crm.ids)
        with crm.lock:  # stored, and assigned to somebody else than the creator
            crm.records[new_id] = {**data, "id": new_id, "assigned_user_id": "u-somebody-else"}
        if crm.mode == "names-existing-record":
            return self.reply(200, {"id": SEEDED})
        self.connection.close()  # "drop": the record exists, the reply never comes
        self.close_connection = True

    def do_PATCH(self):
        path, _ = self.route()
        crm = self.server
        with crm.lock:
            crm.writes.append(("PATCH", path[2]))
            crm.records[path[2]].update(self.body().get("data", {}))
        self.reply(200, {"result": True})

    def do_DELETE(self):
        path, _ = self.route()
        crm = self.server
        with crm.lock:
            crm.writes.append(("DELETE", path[2]))
            found = crm.records.pop(path[2], None)
        self.reply(200 if found else 404, {"result": True} if found else {"message": "not found"})


@pytest.fixture
def hostile(request):
    mode, filters = request.param
    server = HostileCrm(mode, filters)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def api(server: HostileCrm, user: str) -> CrmApi:
    session = CrmSession(timeout=5, verify=True, proxy=None, read_only=False, log=ExchangeLog(Redactor()))
    return CrmApi(session, server.url, username=user, password="hostile-test-password")


def probe_meeting(server: HostileCrm):
    alice, admin = api(server, "alice"), api(server, "riva_svc")
    ledger = Ledger(lambda: admin, meta=lambda who, model: read_fields_meta(who, model))
    prober = Prober(alice, ledger, RUN, Faker(), lambda model: read_fields_meta(alice, model))
    result = prober.probe("Meeting")
    return result, ledger


@pytest.mark.parametrize("hostile", [("names-existing-record", True), ("names-existing-record", False)],
                         indirect=True, ids=["with-filter", "without-filter"])
def test_a_create_reply_naming_an_existing_record_never_touches_it(hostile):
    result, ledger = probe_meeting(hostile)
    outcome = crud_outcome("alice@example.com", CrmUser.from_record({"id": "u-alice", "user_name": "alice"}), [result])
    assert not outcome.passed and outcome.verifiable
    assert "the server's create reply named a Meeting record that is not the probe's" in outcome.message
    assert f"({SEEDED}, titled 'Board meeting') — the suite did not modify it" in outcome.message
    assert len(hostile.own_records()) == 1  # the record the probe really made, assigned to somebody else
    assert ledger.undo() == []  # found by its mark (through the filter, or by paging) and removed
    assert hostile.own_records() == []
    assert hostile.records == {SEEDED: BOARD_MEETING}  # neither modified nor deleted
    assert all(record_id != SEEDED for _, record_id in hostile.writes)


@pytest.mark.parametrize("hostile", [("drop", True)], indirect=True)
def test_a_create_whose_reply_is_lost_is_found_by_its_mark_and_removed(hostile):
    result, ledger = probe_meeting(hostile)
    assert "the create of the probe Meeting got no usable reply" in result.failure
    assert [entry.record_id for entry in ledger.pending] == [None]  # maybe created
    assert len(hostile.own_records()) == 1
    assert ledger.undo() == []
    assert hostile.own_records() == [] and hostile.records == {SEEDED: BOARD_MEETING}
    assert hostile.writes == [("DELETE", hostile.writes[0][1])] and hostile.writes[0][1] != SEEDED
