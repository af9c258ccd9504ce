"""R2.2: what Riva will do to the server, tried gently before go-live.

Riva runs its sync threads (RIVA_THREADS, default 3) at once; the probe runs that many times a
headroom factor of sessions, each signed in as the connection user and repeating a sync-like mix
of reads. First an idle baseline (one session alone), then the load. Every request goes through the
suite's CrmSession (time limit, redaction) in read-only mode, and the probe is bounded twice: no
request starts after READINESS_LOAD_SECONDS, nor beyond READINESS_LOAD_MAX_REQUESTS.
On a server without the REST API, each session signs in through the web login and loads the list
pages of the synced modules instead: the pages the Riva host would load there.
"""

from __future__ import annotations

import csv
import io
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice

from . import deadline
from .client import CrmApi
from .config import Credentials, LoadLimits, Settings
from .errors import AuthenticationFailed, CrmError, CrmTimeout, CrmUnreachable, TlsError
from .http import CrmAdapter, CrmSession, ExchangeLog
from .outcome import Outcome
from .redaction import Redactor
from .roles import MODULES
from .weblogin import parse_page, sign_in as web_sign_in

# The datatypes a sync cycle reads changes of, in this order, when they are configured; then users.
SYNC_MODELS = ("Contact", "Lead", "Meeting", "Call", "Task")
PAGE = 20  # records per read: one page of a change scan
IDLE_ROUNDS = 3  # the baseline runs the mix this often at most ...
IDLE_SHARE = 0.2  # ... and within this share of the probe's time
# An idle p95 below this counts as this much: a fast server going from 5 to 60 ms is no sign of trouble.
RATIO_FLOOR_MS = 100.0
SIGN_IN, IDLE, LOADED = "sign-in", "idle", "loaded"
OK, REFUSED_SIGN_IN = "ok", "sign-in refused"
FIRST_SIGN_IN_FAILED = "failed first sign-in"  # a server that fails one idle sign-in gets no load
RUN_TIME_LIMIT = "run time limit"


@dataclass(frozen=True)
class Sample:
    phase: str
    started_s: float  # since the probe began
    latency_ms: float
    operation: str
    outcome: str  # "ok", "HTTP 503", "time-out", "no connection", ...


@dataclass(frozen=True)
class PhaseStats:
    requests: int
    errors: Counter
    p50: float
    p95: float
    p99: float
    max: float

    @property
    def failed(self) -> int:
        return sum(self.errors.values())


@dataclass
class LoadResult:
    sessions: int
    threads: int
    limits: LoadLimits
    samples: list[Sample]
    requests_sent: int  # HTTP requests that left this host, sign-ins included
    duration_s: float
    loaded_s: float
    stopped_by: str  # "time", "request cap", RUN_TIME_LIMIT or FIRST_SIGN_IN_FAILED
    failures: list[dict] = field(default_factory=list)  # a few failed exchanges, redacted
    web: bool = False  # True: the web pages, on a server without the REST API

    def stats(self, *phases: str) -> PhaseStats:
        chosen = [s for s in self.samples if s.phase in phases]
        latencies = sorted(s.latency_ms for s in chosen)
        errors = Counter(s.outcome for s in chosen if s.outcome != OK)
        if not latencies:
            return PhaseStats(0, errors, 0.0, 0.0, 0.0, 0.0)
        cuts = statistics.quantiles(latencies, n=100, method="inclusive") if len(latencies) > 1 else latencies * 99
        return PhaseStats(len(chosen), errors, cuts[49], cuts[94], cuts[98], latencies[-1])

    @property
    def ended(self) -> str:
        """How the probe ended, in words: 'ended when its 20 s were up (READINESS_LOAD_SECONDS)'."""
        return {"time": f"ended when its {self.limits.seconds:g} s were up (READINESS_LOAD_SECONDS)",
                "request cap": f"ended at its cap of {self.limits.max_requests} requests (READINESS_LOAD_MAX_REQUESTS)",
                RUN_TIME_LIMIT: "ended by the run's time limit (READINESS_TIME_LIMIT)"}.get(
                    self.stopped_by, f"ended by the {self.stopped_by}")

    @property
    def throughput(self) -> float:
        return self.stats(LOADED).requests / self.loaded_s if self.loaded_s > 0 else 0.0

    def headline(self) -> str:
        """For the connection sheet, e.g. "6 concurrent sessions, 412 requests in 20 s, p95 84 ms"."""
        loaded = self.stats(LOADED)
        return (f"{self.sessions} concurrent sessions, {loaded.requests} requests in {self.loaded_s:.3g} s, "
                f"p95 {loaded.p95:.0f} ms")


class _Budget:
    """The probe's two bounds, shared by every session: a deadline and a cap on requests."""

    def __init__(self, max_requests: int, deadline: float):
        self.max_requests = max_requests
        self.deadline = deadline
        self.sent = 0
        self.stopped_by: str | None = None
        self._lock = threading.Lock()

    def take(self) -> bool:
        with self._lock:
            if self.sent >= self.max_requests:
                self.stopped_by = self.stopped_by or "request cap"
                return False
            if deadline.RUN.expired():
                self.stopped_by = self.stopped_by or RUN_TIME_LIMIT
                return False
            if time.monotonic() >= self.deadline:
                self.stopped_by = self.stopped_by or "time"
                return False
            self.sent += 1
            return True


class _Spent(Exception):
    """The budget allows no further request (control flow, never reported)."""


class _ProbeSession(CrmSession):
    """The suite's session, asking the budget before every HTTP request (redirects included).

    It never retries: a retry would hide a refusal from the measurement and add load."""

    def __init__(self, *, budget: _Budget, **kwargs):
        super().__init__(**kwargs)
        self.budget = budget
        adapter = CrmAdapter(self, max_retries=0, pool_maxsize=1)
        self.mount("http://", adapter)
        self.mount("https://", adapter)

    def send(self, request, **kwargs):
        if not self.budget.take():
            raise _Spent
        return super().send(request, **kwargs)


class _FailureLog(ExchangeLog):
    """Keeps a few failed exchanges as evidence; every reply still teaches the redactor its tokens."""

    KEEP = 20

    def record(self, response) -> None:
        if response.status_code < 400:
            self._learn_secrets(response)
        elif len(self) < self.KEEP:
            super().record(response)

    def record_failure(self, *args) -> None:
        if len(self) < self.KEEP:
            super().record_failure(*args)


Operation = tuple[str, Callable[[CrmApi], object]]


def sync_mix(datatypes: tuple[str, ...]) -> list[Operation]:
    """One sync cycle's reads: the newest changes of each synced datatype, then the users.

    The API filters only the fields it advertises (1crm-api.md section 3), so a change scan reads
    the records in order of date_modified, newest first, one page."""
    mix: list[Operation] = [(f"changes {model}", _changes(model)) for model in SYNC_MODELS if model in datatypes]
    mix.append(("users", lambda api: list(islice(
        api.list("User", fields=("id", "user_name", "status", "email1"), page_size=PAGE), PAGE))))
    return mix


class WebClient:
    """One Riva-like session on the web pages (no REST API): signed in once, then list pages of the modules."""

    def __init__(self, session: CrmSession, base: str, user: Credentials):
        self.session, self.base, self.user = session, base, user

    def sign_in(self) -> None:
        result = web_sign_in(self.session, self.base, self.user.username, self.user.password.reveal(), sign_out=False)
        if result.problem:
            raise CrmError(f"the web login of {self.user.username} gave no usable answer: {result.problem}")
        if not result.accepted:
            raise AuthenticationFailed(f"the web login refused {self.user.username}: {result.message}")
        if not result.reached_home:
            raise CrmError(f"signed in, but the home page did not open ('{result.home_title}')")

    def page(self, path: str) -> None:
        response = self.session.get(f"{self.base}/{path}", allow_redirects=False)
        if response.status_code != 200:  # a redirect is the login page: the session was lost
            raise CrmError(f"HTTP {response.status_code} for {path}", status=response.status_code)
        if parse_page(response.url, response.status_code, response.text).has_login_form:  # read whole, as a browser
            raise CrmError(f"{path} answered with the login page: the session was lost", status=response.status_code)


def web_mix(datatypes: tuple[str, ...]) -> list[Operation]:
    """One sync cycle on the web pages: the list page of each synced module, then the users."""
    modules = [MODULES[model] for model in SYNC_MODELS if model in datatypes] + ["Users"]
    return [(f"page {module}", (lambda path: lambda web: web.page(path))(f"index.php?module={module}&action=index"))
            for module in modules]


def _changes(model: str) -> Callable[[CrmApi], object]:
    return lambda api: list(islice(
        api.list(model, fields=("id", "name", "date_modified"), order="date_modified DESC", page_size=PAGE), PAGE))


def probe(settings: Settings, user: Credentials, redactor: Redactor, *, web: bool = False) -> LoadResult:
    """An idle baseline by one session, then every session at once; bounded by the budget.

    Sign-ins are measured apart: their failures count, their latency is neither idle nor load."""
    limits, sessions = settings.load, settings.load_sessions
    started = time.monotonic()
    budget = _Budget(limits.max_requests, started + limits.seconds)
    log = _FailureLog(redactor)
    password = user.password.reveal()
    client_secret = settings.client_secret.reveal() if settings.client_secret else None

    def new_api() -> CrmApi | WebClient:
        session = _ProbeSession.for_settings(settings, log, budget=budget,
                                             read_only=True)  # the probe only reads, whatever READINESS_MODE says
        if web:
            return WebClient(session, settings.crm.base, user)
        return CrmApi(session, settings.crm.base, username=user.username, password=password,
                      client_id=settings.client_id, client_secret=client_secret)

    apis = [new_api() for _ in range(sessions)]
    samples: list[Sample] = []
    lock = threading.Lock()

    def run(api: CrmApi, phase: str, operations, until: float = float("inf")) -> bool:
        """False once this session's sign-in is refused: repeating it could lock the account out."""
        for name, operation in operations:
            if time.monotonic() >= until:
                return True
            begun = time.monotonic()
            try:
                operation(api)
                outcome = OK
            except _Spent:
                return True
            except CrmError as exc:
                outcome = REFUSED_SIGN_IN if isinstance(exc, AuthenticationFailed) else _classify(exc)
            sample = Sample(phase, begun - started, (time.monotonic() - begun) * 1000, name, outcome)
            with lock:
                samples.append(sample)
            if outcome == REFUSED_SIGN_IN:
                return False
        return True

    def session_under_load(n: int, api: CrmApi) -> None:
        if n == 0 or run(api, SIGN_IN, [sign_in]):  # the first session signed in for the baseline
            run(api, LOADED, _endless(mix, n))  # each starts at another point of the mix, as Riva's threads drift

    mix, sign_in = ((web_mix(settings.datatypes), ("sign in", WebClient.sign_in)) if web
                    else (sync_mix(settings.datatypes), ("sign in", CrmApi.me)))
    loaded_s, stopped_by = 0.0, FIRST_SIGN_IN_FAILED
    try:
        run(apis[0], SIGN_IN, [sign_in])
        if samples and samples[-1].outcome == OK:
            stopped_by = "time"
            baseline_from = time.monotonic()
            run(apis[0], IDLE, mix)  # one whole round at least, then more while the baseline's share of time lasts
            run(apis[0], IDLE, mix * (IDLE_ROUNDS - 1), until=baseline_from + limits.seconds * IDLE_SHARE)
            loaded_from = time.monotonic()
            with ThreadPoolExecutor(max_workers=sessions, thread_name_prefix="riva-load") as pool:
                futures = [pool.submit(session_under_load, n, api) for n, api in enumerate(apis)]
                try:
                    for future in futures:
                        future.result()  # a defect in a session surfaces here, not silently
                except BaseException:
                    budget.max_requests = 0  # interrupted: no session sends another request
                    raise
            loaded_s = time.monotonic() - loaded_from
            deadline.check_run()  # the run's time ran out meanwhile: the run ends, not just the probe
    finally:
        for api in apis:
            api.session.close()
    return LoadResult(sessions, settings.threads, limits, sorted(samples, key=lambda s: s.started_s), budget.sent,
                      time.monotonic() - started, loaded_s, budget.stopped_by or stopped_by,
                      [e.as_dict() for e in log.since(0)], web)


def _endless(mix: list[Operation], offset: int):
    while True:
        for n in range(len(mix)):
            yield mix[(n + offset) % len(mix)]


def _classify(exc: CrmError) -> str:
    if exc.status:
        return f"HTTP {exc.status}"
    if isinstance(exc, CrmTimeout):
        return "time-out"
    if isinstance(exc, TlsError):
        return "TLS failure"
    return "no connection" if isinstance(exc, CrmUnreachable) else "unexpected reply"


def judge(result: LoadResult) -> Outcome:
    """Passes when no request failed or timed out and the p95 latency under load is within both limits."""
    limits = result.limits
    idle, loaded, every = result.stats(IDLE), result.stats(LOADED), result.stats(SIGN_IN, IDLE, LOADED)
    problems, fixes = [], []
    kinds = ", ".join(f"{count} x {kind}" for kind, count in every.errors.most_common())
    first_failed = result.stopped_by == FIRST_SIGN_IN_FAILED
    if first_failed:  # no figure of a probe that never ran means anything
        return Outcome.fail(f"the load probe did not start: its first sign-in failed ({kinds or 'no answer'}), so "
                            "no load was sent — see R1.1 to R1.5")
    if every.failed:
        problems.append(f"{every.failed} of {every.requests} requests failed ({kinds})")
    if every.errors[REFUSED_SIGN_IN]:
        fixes.append("the connection user's sign-in was refused (see R1.5)")
    if every.failed > every.errors[REFUSED_SIGN_IN]:
        fixes.append("the web server refuses or drops requests under this load: raise its worker ceiling "
                     "(MaxRequestWorkers, PHP-FPM pm.max_children; see R2.3) or lower RIVA_THREADS")
    if loaded.requests < result.sessions:
        problems.append(f"only {loaded.requests} requests were answered under load, too few to judge")
        fixes.append("raise READINESS_LOAD_SECONDS or READINESS_LOAD_MAX_REQUESTS")
    slow = False
    if loaded.requests and loaded.p95 > limits.p95_ms:
        problems.append(f"p95 latency under load is {loaded.p95:.0f} ms, over {limits.p95_ms} ms (READINESS_LOAD_P95_MS)")
        slow = True
    baseline = max(idle.p95, RATIO_FLOOR_MS)
    if loaded.requests and idle.requests and loaded.p95 / baseline > limits.p95_ratio:
        floored = f" (counted as {RATIO_FLOOR_MS:.0f} ms)" if idle.p95 < RATIO_FLOOR_MS else ""
        problems.append(f"p95 under load {loaded.p95:.0f} ms is {loaded.p95 / baseline:.1f}x the idle p95 "
                        f"{idle.p95:.0f} ms{floored} (limit {limits.p95_ratio:g}x, READINESS_LOAD_P95_RATIO)")
        slow = True
    if slow:
        fixes.append("the server slows down under Riva's load: give it more CPU or workers, or lower RIVA_THREADS")
    load = (f"{result.sessions} concurrent sessions ({result.threads} Riva threads x {limits.headroom:g} headroom), "
            f"{loaded.requests} requests in {result.loaded_s:.1f} s ({result.throughput:.0f}/s), "
            f"p95 {loaded.p95:.0f} ms (idle {idle.p95:.0f} ms), {result.ended}")
    if result.web:
        load += " (on the web pages of the synced modules: this server has no REST API)"
    if problems:
        return Outcome.fail(f"the server did not sustain {load}: {'; '.join(problems)} — {'; '.join(fixes)}")
    return Outcome.ok(f"the server sustained {load}, with no errors or time-outs")


def sheet_line(result: LoadResult, outcome: Outcome) -> str:
    """What the connection sheet says about the concurrency the server sustained."""
    return result.headline() if outcome.passed else f"not sustained ({result.headline()}; see R2.2)"


def summary_csv(result: LoadResult) -> str:
    """The evidence table: latency percentiles, errors and throughput per phase."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["phase", "sessions", "requests", "errors", "p50 ms", "p95 ms", "p99 ms", "max ms",
                     "requests/s"])
    for phase, sessions in ((SIGN_IN, result.sessions), (IDLE, 1), (LOADED, result.sessions)):
        s = result.stats(phase)
        rate = f"{result.throughput:.1f}" if phase == LOADED else ""
        errors = "; ".join(f"{n} {kind}" for kind, n in s.errors.most_common()) or "0"
        writer.writerow([phase, sessions, s.requests, errors, *(f"{v:.0f}" for v in (s.p50, s.p95, s.p99, s.max)),
                         rate])
    return out.getvalue()


def samples_csv(result: LoadResult) -> str:
    """Every request of the probe: when it started, how long it took, what it was and how it ended."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["phase", "started_s", "latency_ms", "operation", "outcome"])
    for s in result.samples:
        writer.writerow([s.phase, f"{s.started_s:.3f}", f"{s.latency_ms:.1f}", s.operation, s.outcome])
    return out.getvalue()
