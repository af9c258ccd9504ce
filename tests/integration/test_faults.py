"""G4 under injected faults (crm_simulator/faults.py): transient faults are retried a bounded number of
times and the call succeeds; persistent ones become one clear CrmError naming the address; nothing hangs."""

from __future__ import annotations

import time

import pytest
import requests

from crm_simulator import Simulator
from crm_simulator.faults import Fault
from readiness.config import load_settings
from readiness.errors import CrmUnreachable, ServerError, UnexpectedReply
from readiness.run import ReadinessRun


def api_of(simulator, **overrides):
    env = {**simulator.env(), "READINESS_ENV_FILE": "none", **overrides}
    return ReadinessRun(load_settings(env)).connection_api


def api_calls(simulator, path: str) -> int:
    return simulator.stats.count(path_prefix=f"/api.php/{path}")


def test_fault_specs_are_parsed_with_defaults_and_checked():
    assert Fault.parse("burst-5xx") == Fault("burst-5xx", after=2, count=2)
    assert Fault.parse("drop:after=3,count=all,scope=/api.php/data/") == Fault("drop", 3, None, "/api.php/data/")
    for bad in ("explode", "latency:speed=2", "latency:seconds=fast"):
        with pytest.raises(ValueError):
            Fault.parse(bad)
    with pytest.raises(ValueError, match="unknown fault"):
        Simulator("healthy", faults=["explode"])


def test_faults_keep_to_their_scope():
    with Simulator("healthy", faults=["html-error:count=all"]) as sim:
        session = requests.Session()
        session.verify, session.trust_env = sim.ca_bundle, False
        assert session.get(f"{sim.url}/index.php", timeout=5).status_code == 200  # the web login is untouched
        reply = session.get(f"{sim.url}/api.php/version", timeout=5)
        assert reply.headers["Content-Type"].startswith("text/html") and b"Fatal error" in reply.content


def test_latency_slows_but_does_not_break():
    with Simulator("healthy", faults=["latency:seconds=0.3"]) as sim:
        started = time.monotonic()
        assert api_of(sim).version()
        assert time.monotonic() - started >= 0.3


@pytest.mark.parametrize("spec", ["burst-5xx:after=0,count=2", "drop:count=1", "throttle:count=2,seconds=1",
                                  "unavailable:count=1,seconds=0.5"])
def test_transient_faults_are_retried_and_the_call_succeeds(spec):
    # Retry-After: 0.5 is not valid HTTP, but a server may send it: it must not fail the request.
    with Simulator("healthy", faults=[spec]) as sim:
        started = time.monotonic()
        assert api_of(sim).version()["version"]
        elapsed = time.monotonic() - started
        assert api_calls(sim, "version") == 1 + (Fault.parse(spec).count or 0)
    assert elapsed < 5


def test_a_burst_of_5xx_that_does_not_end_is_a_server_error_after_bounded_retries():
    with Simulator("healthy", faults=["burst-5xx:after=0,count=all,scope=/api.php/version"]) as sim:
        started = time.monotonic()
        with pytest.raises(ServerError, match=r"HTTP 50[23] for version") as error:
            api_of(sim).version()
        assert api_calls(sim, "version") == 4  # the first try and three retries
    assert error.value.url.endswith("/api.php/version")
    assert time.monotonic() - started < 10


def test_dropped_connections_that_do_not_end_are_a_clear_network_error():
    with Simulator("healthy", faults=["drop:count=all"]) as sim:
        with pytest.raises(CrmUnreachable, match=r"https://localhost:\d+") as error:
            api_of(sim).version()
        assert api_calls(sim, "version") == 3  # the first try and two read retries
    assert error.value.url.endswith("/api.php/version")


def test_a_request_that_never_answers_ends_at_the_time_limit():
    with Simulator("healthy", faults=["hang:count=all"]) as sim:
        started = time.monotonic()
        with pytest.raises(CrmUnreachable, match=r"did not answer within 1 s"):
            api_of(sim, CRM_TIMEOUT="1").version()
        elapsed = time.monotonic() - started
        stopping = time.monotonic()
    assert time.monotonic() - stopping < 3  # the hanging requests end with the simulator
    assert elapsed < 8


def test_writes_are_never_repeated_after_a_fault():
    with Simulator("healthy", faults=["burst-5xx:after=0,count=1,scope=/api.php/data/Note"]) as sim:
        api = api_of(sim)
        api.me()
        with pytest.raises(ServerError, match="HTTP 503"):
            api.create("Note", {"name": "readiness fault test"})
        assert sim.stats.count("POST", "/api.php/data/Note") == 1 and sim.store.live_records(title_prefix="readiness fault test") == []


@pytest.mark.parametrize("kind", ["truncated-json", "html-error"])
def test_a_reply_that_is_not_json_is_an_unexpected_reply_with_an_excerpt(kind):
    with Simulator("healthy", faults=[f"{kind}:count=all,scope=/api.php/me"]) as sim:
        with pytest.raises(UnexpectedReply, match=r"unexpected reply from server: HTTP 200 .* for me: '") as error:
            api_of(sim).me()
    assert error.value.url.endswith("/api.php/me")


def test_an_expired_token_is_renewed_once_and_the_request_repeated():
    with Simulator("healthy", faults=["token-expiry:uses=2"]) as sim:
        api = api_of(sim)
        for _ in range(5):
            assert api.me()["id"].startswith("Users:")
        assert api_calls(sim, "auth/user/access_token") >= 2  # renewed after the expiry


def test_the_watchdog_interrupts_the_main_thread_once_the_time_limit_is_reached():
    from readiness.deadline import RUN
    from readiness.interrupts import Watchdog

    quiet = Watchdog(0.1)
    quiet.cancel()
    time.sleep(0.3)  # a cancelled watchdog never fires
    watchdog = Watchdog(0.2)
    started = time.monotonic()
    try:
        with pytest.raises(KeyboardInterrupt):
            time.sleep(10)  # a blocking wait, like a socket read, is broken off too
        assert time.monotonic() - started < 2
        assert watchdog.reason == "time limit of 0.2 s exceeded (READINESS_TIME_LIMIT)"
    finally:
        watchdog.cancel()  # the run's deadline is process-wide: later tests must not inherit it
    assert RUN.expired() is None
