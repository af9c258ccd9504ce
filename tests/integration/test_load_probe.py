"""R2.2's probe: bounded in requests and in time, read-only, and judged on errors and latency."""

from __future__ import annotations

import json
import socket
import time
from collections import Counter

import pytest

from crm_simulator import Simulator
from readiness import load, load_report
from readiness.config import LoadLimits, load_settings
from readiness.load import IDLE, LOADED, OK, SIGN_IN, LoadResult, Sample
from readiness.redaction import Redactor


def probe_against(simulator: Simulator, **env) -> tuple[LoadResult, float, list]:
    """Runs the probe; returns its result, its wall time and the requests the server saw meanwhile."""
    settings = load_settings({**simulator.env(), "READINESS_ENV_FILE": "none", **env})
    seen = len(simulator.stats.requests)
    started = time.monotonic()
    result = load.probe(settings, settings.connection_user, Redactor())
    return result, time.monotonic() - started, simulator.stats.requests[seen:]


@pytest.fixture(scope="module")
def healthy():
    with Simulator("healthy", password="Probe-Pass-7781", client_secret="Probe-Client-Secret-7781") as simulator:
        yield simulator


def test_the_probe_never_exceeds_its_request_cap(healthy):
    result, elapsed, requests = probe_against(healthy, READINESS_LOAD_MAX_REQUESTS="25", READINESS_LOAD_SECONDS="60")
    assert result.stopped_by == "request cap"
    assert result.requests_sent == len(requests) == 25  # every request, token requests included, counted
    assert elapsed < 10


def test_the_probe_never_exceeds_its_time_bound(healthy):
    result, elapsed, requests = probe_against(healthy, READINESS_LOAD_SECONDS="0.5",
                                              READINESS_LOAD_MAX_REQUESTS="100000")
    assert result.stopped_by == "time"
    assert all(s.started_s < 0.5 for s in result.samples)  # no request starts after the bound ...
    assert elapsed < 0.5 + 1.0  # ... and those in flight end quickly on a healthy server
    assert result.requests_sent == len(requests)
    assert result.stats(LOADED).requests > 0 and result.stats(IDLE).requests >= len(load.sync_mix(load.SYNC_MODELS))


def test_the_probe_runs_threads_times_headroom_sessions_and_only_reads(healthy):
    result, _, requests = probe_against(healthy, RIVA_THREADS="2", READINESS_LOAD_HEADROOM="1.5",
                                        READINESS_LOAD_SECONDS="1", READINESS_MODE="full")
    assert result.sessions == 3 and result.stats(SIGN_IN).requests == 3
    assert {method for method, path, _ in requests if method != "GET"} == {"POST"}
    assert {path for method, path, _ in requests if method == "POST"} == {"/api.php/auth/user/access_token"}
    read = Counter(path for method, path, _ in requests if method == "GET")
    assert {"/api.php/data/Contact", "/api.php/data/Lead", "/api.php/data/Meeting", "/api.php/data/Call",
            "/api.php/data/Task", "/api.php/data/User", "/api.php/me"} == set(read)


def test_the_mix_follows_the_configured_datatypes():
    assert [name for name, _ in load.sync_mix(("Contact", "Task", "Note"))] == ["changes Contact", "changes Task", "users"]


def test_a_server_that_does_not_answer_ends_the_probe_within_one_time_limit():
    with socket.create_server(("127.0.0.1", 0)) as silent:  # accepts connections, never answers
        port = silent.getsockname()[1]
        settings = load_settings({"CRM_URL": f"http://127.0.0.1:{port}", "CRM_USERNAME": "riva_svc",
                                  "CRM_PASSWORD": "Silent-Pass-1", "CRM_TIMEOUT": "1", "READINESS_LOAD_SECONDS": "0.5",
                                  "READINESS_ENV_FILE": "none"})
        started = time.monotonic()
        result = load.probe(settings, settings.connection_user, Redactor())
        elapsed = time.monotonic() - started
    assert elapsed < 0.5 + 1 + 1.0  # the bound, one request time limit, and slack
    assert result.stats(SIGN_IN).errors == Counter({"time-out": 1}) and result.requests_sent == 1
    outcome = load.judge(result)
    assert not outcome.passed and "1 x time-out" in outcome.message


def test_refusals_are_counted_and_kept_as_redacted_evidence():
    secret = "Undersized-Secret-5521"
    with Simulator("undersized", password=secret, client_secret=secret + "-client") as simulator:
        result, _, _ = probe_against(simulator, READINESS_LOAD_SECONDS="2")
        refused = simulator.capacity.refused
    errors = result.stats(SIGN_IN, IDLE, LOADED).errors
    assert refused > 0 and errors["HTTP 503"] == refused
    assert result.failures and all(f["status"] == 503 for f in result.failures)
    text = json.dumps(result.failures)
    assert secret not in text and "Bearer ey" not in text


# -- the verdict, on measurements made up for the purpose -----------------------------------------


def made_up(idle_ms: list[float], loaded_ms: list[float], outcomes: dict[int, str] | None = None,
            **limits) -> LoadResult:
    samples = [Sample(IDLE, n * 0.1, ms, "changes Contact", OK) for n, ms in enumerate(idle_ms)]
    samples += [Sample(LOADED, 1 + n * 0.01, ms, "changes Contact", (outcomes or {}).get(n, OK))
                for n, ms in enumerate(loaded_ms)]
    return LoadResult(6, 3, LoadLimits(**limits), samples, len(samples), 20.0, 18.0, "time")


def test_the_probe_says_in_words_how_it_ended():
    from dataclasses import replace

    result = made_up([80] * 10, [100] * 200, seconds=20, max_requests=500)
    assert "200 requests in 18.0 s (11/s), p95 100 ms (idle 80 ms), ended when its 20 s were up " \
           "(READINESS_LOAD_SECONDS)" in load.judge(result).message
    assert replace(result, stopped_by="request cap").ended == \
        "ended at its cap of 500 requests (READINESS_LOAD_MAX_REQUESTS)"
    assert replace(result, stopped_by=load.RUN_TIME_LIMIT).ended == "ended by the run's time limit (READINESS_TIME_LIMIT)"


def test_fast_and_steady_passes():
    outcome = load.judge(made_up([80] * 10, [100] * 200))
    assert outcome.passed
    assert "sustained 6 concurrent sessions (3 Riva threads x 2 headroom), 200 requests in 18.0 s" in outcome.message


def test_errors_fail_even_when_fast():
    outcome = load.judge(made_up([80] * 10, [100] * 200, {3: "HTTP 503", 4: "HTTP 503", 9: "time-out"}))
    assert not outcome.passed
    assert "3 of 210 requests failed (2 x HTTP 503, 1 x time-out)" in outcome.message
    assert "raise its worker ceiling" in outcome.message


def test_p95_over_the_absolute_limit_fails():
    outcome = load.judge(made_up([900] * 10, [2500] * 200))
    assert not outcome.passed and "p95 latency under load is 2500 ms, over 2000 ms" in outcome.message
    assert "x the idle p95" not in outcome.message  # 2500 / 900 is within the ratio


def test_p95_growing_beyond_the_ratio_fails():
    outcome = load.judge(made_up([100] * 10, [450] * 200, p95_ratio=4.0))
    assert not outcome.passed and "p95 under load 450 ms is 4.5x the idle p95 100 ms (limit 4x" in outcome.message


def test_the_ratio_ignores_idle_latencies_below_network_noise():
    assert load.judge(made_up([3] * 10, [290] * 200)).passed  # an idle p95 under 100 ms counts as 100 ms
    assert "is 3.1x the idle p95 3 ms (counted as 100 ms)" in load.judge(made_up([3] * 10, [310] * 200)).message


def test_too_few_requests_under_load_cannot_pass():
    outcome = load.judge(made_up([80] * 10, [100] * 2))
    assert not outcome.passed and "too few to judge" in outcome.message


def test_percentiles_and_the_sheet_line():
    result = made_up([10] * 10, list(range(1, 101)))
    stats = result.stats(LOADED)
    assert (stats.requests, round(stats.p50), round(stats.p95), round(stats.p99), stats.max) == (100, 50, 95, 99, 100)
    assert load.sheet_line(result, load.judge(result)) == "6 concurrent sessions, 100 requests in 18 s, p95 95 ms"
    failed = made_up([10] * 10, [10] * 100, {0: "HTTP 503"})
    assert load.sheet_line(failed, load.judge(failed)).startswith("not sustained (6 concurrent sessions")


def test_evidence_files_table_requests_and_chart(tmp_path):
    result = made_up([80] * 10, [100] * 50, {5: "HTTP 503"})
    files = load_report.write(result, tmp_path / "reports")
    summary = files.summary.read_text(encoding="utf-8").splitlines()
    assert summary[0] == "phase,sessions,requests,errors,p50 ms,p95 ms,p99 ms,max ms,requests/s"
    assert summary[3] == "loaded,6,50,1 HTTP 503,100,100,100,100,2.8"
    assert len(files.requests.read_text(encoding="utf-8").splitlines()) == 1 + 60
    assert files.chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and files.chart.stat().st_size > 10_000


def test_a_refused_sign_in_stops_the_probe_at_once(healthy):
    result, _, requests = probe_against(healthy, CRM_PASSWORD="not-the-password", READINESS_LOAD_SECONDS="5")
    assert len(requests) == 1 and result.requests_sent == 1  # one refusal, never a burst that could lock the account
    outcome = load.judge(result)
    assert not outcome.passed
    # a probe that never started has no figures to report: no "0 requests in 0.0 s"
    assert outcome.message == ("the load probe did not start: its first sign-in failed (1 x sign-in refused), so no "
                               "load was sent — see R1.1 to R1.5")


def test_the_chart_says_what_r22_concluded_and_draws_both_limits(tmp_path, monkeypatch):
    passed = made_up([80] * 10, [140] * 50)
    assert load_report.conclusion(passed, True) == ("R2.2 passed: p95 under load 140 ms (limit 2000 ms), 1.4× idle "
                                                    "(limit 3×)")
    slow = made_up([80] * 10, [400] * 50, {5: "HTTP 503"})
    assert load_report.conclusion(slow, False) == ("R2.2 failed: p95 under load 400 ms (limit 2000 ms), 4.0× idle "
                                                   "(limit 3×); 1 requests failed")
    figure_texts = []
    original = load_report.Figure.savefig

    def keep_texts(figure, *args, **kwargs):
        axes = figure.axes[0]
        figure_texts.extend([axes.get_title(loc="left"), *(t.get_text() for t in axes.get_legend().get_texts())])
        return original(figure, *args, **kwargs)

    monkeypatch.setattr(load_report.Figure, "savefig", keep_texts)
    load_report.draw(slow, tmp_path / "slow.png")
    assert figure_texts[0].startswith("R2.2 failed: p95 under load 400 ms")
    assert "p95 limit 2000 ms (READINESS_LOAD_P95_MS)" in figure_texts
    assert "p95 limit 3× idle = 300 ms (READINESS_LOAD_P95_RATIO)" in figure_texts


def test_a_web_page_that_is_the_login_page_counts_as_a_lost_session_not_as_served():
    from hostile import hostile_server

    from readiness.errors import CrmError
    from readiness.http import CrmSession, ExchangeLog
    from readiness.weblogin import FORM_IDS

    login_page = "<html><body>" + "".join(f'<input id="{i}">' for i in FORM_IDS) + "</body></html>"
    with hostile_server(lambda handler: handler.send(200, login_page.encode(), "text/html")) as server:
        session = CrmSession(timeout=5, verify=True, proxy=None, read_only=True, log=ExchangeLog(Redactor()))
        web = load.WebClient(session, server.url, user=None)
        with pytest.raises(CrmError, match="answered with the login page: the session was lost"):
            web.page("index.php?module=Contacts&action=index")


def test_failures_are_named_by_what_happened():
    from readiness.errors import CrmTimeout, CrmUnreachable, ServerError, TlsError, UnexpectedReply

    assert [load._classify(e) for e in (ServerError("x", status=503), CrmTimeout("x"), TlsError("x"),
                                        CrmUnreachable("x"), UnexpectedReply("not JSON"))] == [
        "HTTP 503", "time-out", "TLS failure", "no connection", "unexpected reply"]
