"""What a hostile server can make the suite do is bounded: a dripping reply ends at the request's total
deadline (CRM_TIMEOUT) or the run's (READINESS_TIME_LIMIT), in any thread; Retry-After sleeps end with the
deadline; a reply is read up to a size cap; a list follows only the pages total_results announced; and in
read-only mode no write leaves the process, redirects included. Each against a small server on 127.0.0.1."""

from __future__ import annotations

import json
import signal
import sys
import threading
import time
from contextlib import contextmanager

import pytest
import requests
from hostile import dripping, hostile_server

from readiness import http
from readiness.client import CrmApi
from readiness.config import load_settings
from readiness.deadline import RUN, TimeLimitExceeded, cleanup_budget
from readiness.errors import CrmError, CrmTimeout, ReadOnlyViolation, ReplyTooLarge, ServerError, UnexpectedReply
from readiness.http import CrmSession, ExchangeLog
from readiness.redaction import Redactor


def session(timeout: float = 1.5, read_only: bool = False) -> CrmSession:
    return CrmSession(timeout=timeout, verify=True, proxy=None, read_only=read_only, log=ExchangeLog(Redactor()))


@contextmanager
def run_limit(seconds: float):
    RUN.limit(time.monotonic() + seconds, f"time limit of {seconds:g} s exceeded (READINESS_TIME_LIMIT)")
    try:
        yield
    finally:
        RUN.clear()


def timed(call) -> tuple[BaseException, float]:
    started = time.monotonic()
    with pytest.raises(BaseException) as raised:
        call()
    return raised.value, time.monotonic() - started


# -- deadlines ---------------------------------------------------------------------------------


def test_a_dripping_reply_ends_at_the_requests_total_deadline():
    with hostile_server(dripping(every=0.3)) as server:  # each byte well within the read time-out
        error, elapsed = timed(lambda: session(timeout=1.5).get(f"{server.url}/api.php/version"))
    assert isinstance(error, CrmTimeout) and "did not answer within 1.5 s" in str(error)
    assert elapsed < 1.5 + 2  # not ~25 s: the time-out does not restart at every byte


def test_a_dripping_body_ends_at_the_deadline_too():
    def reply(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", "1000")
        handler.end_headers()
        handler.drip(b"[" + b"1," * 499, every=0.2)

    with hostile_server(reply) as server:
        error, elapsed = timed(lambda: session(timeout=1).get(f"{server.url}/api.php/me"))
    assert isinstance(error, CrmTimeout) and elapsed < 1 + 2


def test_the_runs_deadline_cuts_a_request_in_any_thread_and_ends_the_run():
    errors = []

    def worker():  # like the concurrency probe's sessions, which signals never reach
        try:
            session(timeout=60).get(f"{server.url}/api.php/data/User")
        except BaseException as exc:  # noqa: BLE001 - the test inspects what ended it
            errors.append(exc)

    with hostile_server(dripping(every=0.3)) as server, run_limit(1):
        started = time.monotonic()
        thread = threading.Thread(target=worker)
        thread.start()
        error, _ = timed(lambda: session(timeout=60).get(f"{server.url}/api.php/me"))
        thread.join(5)
        elapsed = time.monotonic() - started
        with pytest.raises(TimeLimitExceeded):  # once the time is up, no request starts
            session().get(f"{server.url}/api.php/me")
    assert isinstance(error, TimeLimitExceeded) and "time limit of 1 s exceeded" in str(error)
    assert [type(e) for e in errors] == [TimeLimitExceeded] and not thread.is_alive()
    assert elapsed < 1 + 2


def test_clean_up_after_the_deadline_gets_its_own_short_budget():
    with hostile_server(dripping(every=0.3)) as server, run_limit(0):
        with cleanup_budget(1):
            error, elapsed = timed(lambda: session(timeout=60).delete(f"{server.url}/api.php/data/Note/1"))
            assert isinstance(error, CrmTimeout) and "left for clean-up" in str(error)
            error, _ = timed(lambda: session(timeout=60).get(f"{server.url}/api.php/data/Note/1"))
            assert isinstance(error, CrmTimeout)  # the budget spent: refused at once, not a TimeLimitExceeded
    assert elapsed < 1 + 2


def test_retry_after_never_outlasts_the_deadline():
    def busy(handler):
        handler.send(503, b'{"message":"busy"}', Retry_After="10")

    with hostile_server(busy) as server:
        error, elapsed = timed(lambda: session(timeout=2).get(f"{server.url}/api.php/version"))
        tries = len(server.seen)
    assert elapsed < 2 and tries == 1  # a 10 s wait is not begun when 2 s are left
    # said as the server's answer, not as a time-out
    assert isinstance(error, ServerError) and error.status == 503, error
    assert str(error).endswith("answered HTTP 503 and asks to be retried after 10 s: no time is left to retry within "
                               "the request's 2 s (CRM_TIMEOUT)")


@pytest.mark.skipif(sys.platform == "win32", reason="sends a thread-directed POSIX signal")
def test_the_watchdog_interrupts_the_main_thread_even_with_sigint_ignored():
    from readiness import interrupts

    previous = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as a background job starts
    interrupts.install()
    watchdog = interrupts.Watchdog(0.3)
    try:
        started = time.monotonic()
        with pytest.raises(KeyboardInterrupt):
            time.sleep(10)  # no HTTP: only the signal can end this wait
        assert time.monotonic() - started < 3
        assert watchdog.reason == "time limit of 0.3 s exceeded (READINESS_TIME_LIMIT)"
    finally:
        watchdog.cancel()
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def test_a_watchdog_cancelled_after_it_fired_sends_no_interrupt():
    from readiness import interrupts

    previous = signal.getsignal(signal.SIGINT)
    received = []
    signal.signal(signal.SIGINT, lambda signum, frame: received.append(signum))
    try:
        watchdog = interrupts.Watchdog(0.05)  # fires, then waits for a request the deadline cut: none comes
        time.sleep(0.3)
        watchdog.cancel()  # the run ended meanwhile
        time.sleep(1.2)
        assert received == []
    finally:
        signal.signal(signal.SIGINT, previous)


# -- size caps ---------------------------------------------------------------------------------


@pytest.fixture
def small_cap(monkeypatch):
    monkeypatch.setattr(http, "MAX_REPLY_BYTES", 2**20)
    return 2**20


def test_a_huge_reply_is_not_read_beyond_the_cap(small_cap):
    def huge(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(100 * 2**20))
        handler.end_headers()
        chunk = b" " * 2**16
        while not handler.stopping.is_set():
            handler.wfile.write(chunk)

    s = session(timeout=10)
    with hostile_server(huge) as server:
        error, elapsed = timed(lambda: s.get(f"{server.url}/api.php/data/User"))
    assert isinstance(error, ReplyTooLarge) and "the server's reply exceeded 1 MB (GET /api.php/data/User" in str(error)
    assert len(json.dumps([e.as_dict() for e in s.log.since(0)])) < 2000  # the evidence: one line, no body


def test_an_endless_chunked_stream_is_cut_at_the_cap(small_cap):
    def endless(handler):
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Transfer-Encoding", "chunked")
        handler.end_headers()
        while not handler.stopping.is_set():
            handler.wfile.write(b"10000\r\n" + b"x" * 0x10000 + b"\r\n")

    with hostile_server(endless) as server:
        error, _ = timed(lambda: session(timeout=10).get(f"{server.url}/login.php"))
    assert isinstance(error, ReplyTooLarge)


def test_a_large_json_reply_is_kept_as_a_short_redacted_excerpt():
    secret = "Large-Reply-Secret-99"
    records = [{"id": str(n), "name": "x" * 100, "password": secret} for n in range(2000)]  # ~300 KB
    body = json.dumps({"records": records, "total_results": 2000}).encode()

    with hostile_server(lambda handler: handler.send(200, body)) as server:
        s = session(timeout=10)
        s.log.redactor.add(secret)
        s.get(f"{server.url}/api.php/data/User")
    [exchange] = s.log.since(0)
    assert isinstance(exchange.response_body, str) and len(exchange.response_body) < 3000
    assert "an excerpt: " in exchange.response_body and secret not in exchange.response_body


# -- paging bounds -------------------------------------------------------------------------------


def api_for(server, **env) -> CrmApi:
    settings = load_settings({"CRM_URL": server.url, "CRM_USERNAME": "riva_svc", "CRM_PASSWORD": "Paging-Pass-1",
                              "READINESS_ENV_FILE": "none", **env})
    s = CrmSession(timeout=5, verify=True, proxy=None, read_only=True, log=ExchangeLog(Redactor()))
    return CrmApi(s, settings.crm.base, username="riva_svc", password="Paging-Pass-1")


def pages(make_page):
    def reply(handler):
        offset = int(handler.path.split("offset=")[1].split("&")[0])
        handler.send(200, json.dumps(make_page(offset)).encode())
    return reply


@pytest.mark.parametrize("make_page, finding", [
    # new records on every page, total_results growing with them: an endless list
    (lambda o: {"records": [{"id": str(o + i)} for i in range(2)], "total_results": o + 10},
     "the server kept returning pages beyond total_results="),
    # the same page whatever the offset
    (lambda o: {"records": [{"id": "1"}, {"id": "2"}], "total_results": 5},
     "returned the same records again at offset 2"),
    # nothing more, though total_results promises more
    (lambda o: {"records": [{"id": "1"}, {"id": "2"}] if o == 0 else [], "total_results": 5},
     "returned no records at offset 2 although total_results=5"),
    (lambda o: {"records": [], "total_results": 10**9}, "returned no records at offset 0 although total_results=1000000000"),
    # a later page that announces fewer records cannot end the list early and quietly
    (lambda o: {"records": [{"id": "1"}, {"id": "2"}], "total_results": 6} if o == 0 else {"records": [], "total_results": 0},
     "returned no records at offset 2 although total_results=6"),
])
def test_a_list_follows_only_the_pages_total_results_announced(make_page, finding):
    with hostile_server(pages(make_page)) as server:
        with pytest.raises(UnexpectedReply, match=finding):
            list(api_for(server).list("User", fields=["id"], page_size=2))
        requests_sent = len(server.seen)
    assert requests_sent <= 10 // 2 + 2 + 2


def test_a_list_longer_than_the_cap_is_refused_only_where_the_reading_reaches_the_cap(monkeypatch):
    from itertools import islice

    from readiness import client

    monkeypatch.setattr(client, "MAX_LIST_RECORDS", 6)
    endless = pages(lambda o: {"records": [{"id": str(o + i)} for i in range(2)], "total_results": 10**6})
    with hostile_server(endless) as server:
        api = api_for(server)
        assert [r["id"] for r in islice(api.list("Contact", page_size=2), 2)] == ["0", "1"]  # a change scan: fine
        with pytest.raises(UnexpectedReply, match=r"announces total_results=1000000, more than the 6 records"):
            list(api.list("Contact", page_size=2))


def test_an_honest_list_is_read_to_its_end():
    with hostile_server(pages(lambda o: {"records": [{"id": str(i)} for i in range(o, min(o + 2, 5))],
                                         "total_results": "5"})) as server:
        assert [r["id"] for r in api_for(server).list("User", page_size=2)] == ["0", "1", "2", "3", "4"]


# -- read-only across redirects --------------------------------------------------------------------


def redirect_to(location: str, status: int = 307):
    return lambda handler: handler.send(status, b"", Location=location)


def test_a_redirected_write_is_never_followed():
    with hostile_server(redirect_to("/api.php/data/Contact")) as server:
        response = session().post(f"{server.url}/api.php/data/Note", json={"data": {"name": "x"}})
        seen = list(server.seen)
    assert response.status_code == 307 and seen == [("POST", "/api.php/data/Note")]


def test_the_read_only_guard_holds_on_every_hop():
    """Even a request sent past CrmSession.request (Session.send follows 307s) is checked at each hop."""
    with hostile_server(redirect_to("/api.php/data/Contact")) as server:
        s = session(read_only=True)
        sign_in = requests.Request("POST", f"{server.url}/api.php/auth/user/access_token", json={}).prepare()
        with pytest.raises(ReadOnlyViolation, match="refused to send POST /api.php/data/Contact"):
            s.send(sign_in, allow_redirects=True)
        seen = list(server.seen)
    assert seen == [("POST", "/api.php/auth/user/access_token")]  # the redirected POST never left


def test_read_only_sign_ins_redirected_to_a_write_send_no_write():
    """The read-only run's only POSTs are sign-ins; a server redirecting them (and every GET) to data URLs
    gets no write: sign-ins are not followed, GETs stay GETs."""
    from readiness import access
    from readiness.run import ReadinessRun

    def reply(handler):
        if handler.path == "/api.php/data/Contact/1":
            handler.send(200, b'{"version": "8.7.7", "record": {}}')
        else:
            handler.send(307 if handler.command == "POST" else 302, b"", Location="/api.php/data/Contact/1")

    with hostile_server(reply) as server:
        env = {"CRM_URL": server.url, "CRM_USERNAME": "riva_svc", "CRM_PASSWORD": "Redirect-Pass-1",
               "CRM_CLIENT_ID": "client", "CRM_CLIENT_SECRET": "Redirect-Secret-1", "READINESS_MODE": "read-only",
               "READINESS_ENV_FILE": "none", "CRM_TIMEOUT": "5"}
        run = ReadinessRun(load_settings(env))
        crm = run.settings.crm
        outcomes = []
        for attempt in (lambda: access.api_sign_in(run.connection_api),
                        lambda: access.web_sign_in(crm, run.session(), run.settings.connection_user),
                        lambda: access.login_page(crm, run.session())):
            try:
                outcomes.append(attempt())
            except CrmError:  # a clear error is a finding too; anything else fails the test
                pass
        seen = list(server.seen)
    assert not any(o.passed for o in outcomes)
    writes = {(m, p.split("?")[0]) for m, p in seen if m not in ("GET", "HEAD")}
    assert writes == {("POST", "/api.php/auth/user/access_token"), ("POST", "/json.php")}, seen
    assert seen.count(("POST", "/api.php/data/Contact/1")) == 0
