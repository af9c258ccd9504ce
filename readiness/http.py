"""The one HTTP session every request of the suite goes through.

It owns the policies that must hold for every request: a total deadline (readiness/deadline.py),
bounded retries of idempotent verbs (urllib3's Retry), a cap on the size of a reply, TLS
verification with the configured CA bundle, the proxy, the read-only guard (G1) on every request
that leaves the process, redirects included, and the redacted evidence recorder (G3).
"""

from __future__ import annotations

import json
import re
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.exceptions import InvalidHeader, ReadTimeoutError
from urllib3.util.retry import Retry

from . import deadline, root_causes
from .errors import CrmTimeout, CrmUnreachable, ReadOnlyViolation, ReplyTooLarge, ServerError, TlsError
from .redaction import Redactor

READ_VERBS = frozenset({"GET", "HEAD", "OPTIONS"})
# Signing in is a POST that changes no CRM record, so read-only runs may still do it.
SIGN_IN_PATHS = ("/api.php/auth/user/access_token", "/json.php")
_BODY_EXCERPT = 2000
_EVIDENCE_CHARS = 20_000  # a JSON reply larger than this is kept as an excerpt
MAX_REPLY_BYTES = 8 * 1024 * 1024  # no page or JSON reply of 1CRM comes near this; more is not read


class BoundedRetry(Retry):
    """Honours Retry-After, but never sleeps longer than a readiness run can afford."""

    MAX_RETRY_AFTER = 10.0

    def get_retry_after(self, response):
        seconds = super().get_retry_after(response)
        return None if seconds is None else min(seconds, self.MAX_RETRY_AFTER)

    def parse_retry_after(self, retry_after: str) -> float:
        """A malformed Retry-After (e.g. "0.5") must not turn a transient fault into a failed request."""
        try:
            return super().parse_retry_after(retry_after)
        except InvalidHeader:
            try:
                return max(float(retry_after), 0.0)
            except ValueError:
                return 0.0  # unreadable: the ordinary backoff applies

    def sleep(self, response=None) -> None:
        """Backoff and Retry-After, cut by the request's deadline: a wait that would outlast it is not begun,
        and the server's last answer (say, 503 with Retry-After: 120) is what the request failed with."""
        wait = self.get_retry_after(response) if self.respect_retry_after_header and response is not None else None
        try:
            deadline.wait(self.get_backoff_time() if wait is None else wait)
        except deadline.DeadlinePassed:
            if response is None or (ticket := deadline.current()) is None or ticket.cut_by != "request":
                raise  # the run's (or the clean-up's) time is up: that is what must be said
            ticket.expired = False
            raise _NoTimeToRetry(response.status, response.headers.get("Retry-After")) from None


class _NoTimeToRetry(Exception):
    """The server asked for a wait longer than the request has left (control flow inside the adapter)."""

    def __init__(self, status: int, retry_after: str | None):
        super().__init__(status)
        self.status, self.retry_after = status, retry_after


def retry_policy() -> Retry:
    return BoundedRetry(
        total=3,
        connect=2,
        read=2,
        status=3,
        other=0,  # TLS verification and protocol errors are not transient: fail at once
        backoff_factor=0.5,
        backoff_max=4,
        status_forcelist=(429, 502, 503, 504),
        allowed_methods=READ_VERBS,  # never repeat a write: it might have happened
        respect_retry_after_header=True,
        raise_on_status=False,
    )


@dataclass
class Exchange:
    """One request and its reply, redacted, as evidence."""

    method: str
    url: str
    status: int | None
    elapsed_ms: int
    request_headers: dict
    request_body: Any
    response_headers: dict
    response_body: Any
    error: str | None = None

    def as_dict(self) -> dict:
        return dict(self.__dict__)


class ExchangeLog:
    """A thread-safe, append-only list of redacted exchanges."""

    def __init__(self, redactor: Redactor):
        self.redactor = redactor
        self._items: list[Exchange] = []
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._items)

    def since(self, mark: int) -> list[Exchange]:
        with self._lock:
            return list(self._items[mark:])

    def add(self, exchange: Exchange) -> None:
        with self._lock:
            self._items.append(exchange)

    def record(self, response: requests.Response) -> None:
        request = response.request
        self._learn_secrets(response)
        self.add(
            Exchange(
                method=request.method,
                url=self.redactor.text(request.url),
                status=response.status_code,
                elapsed_ms=int(response.elapsed.total_seconds() * 1000),
                request_headers=self.redactor.mapping(dict(request.headers)),
                request_body=self._body(request.body, request.headers.get("Content-Type", "")),
                response_headers=self.redactor.mapping(dict(response.headers)),
                response_body=self._body(response.content, response.headers.get("Content-Type", "")),
            )
        )

    def record_failure(self, method: str, url: str, error: str, started: float) -> None:
        self.add(
            Exchange(method, self.redactor.text(url), None, int((time.monotonic() - started) * 1000), {}, None, {}, None,
                     error=self.redactor.text(error))
        )

    def _learn_secrets(self, response: requests.Response) -> None:
        """Credentials on the wire are secrets from now on, before anything of this exchange is shown:
        the request's Authorization, Cookie and CSRF headers, every Set-Cookie value (also one the
        cookie jar refused), and every token-like value of a JSON reply."""
        learn = self.redactor.learn
        for request in [*(r.request for r in response.history), response.request]:
            headers = request.headers if request is not None else {}
            self.redactor.learn_authorization(headers.get("Authorization"))
            self.redactor.learn_authorization(headers.get("Proxy-Authorization"))
            learn(*_cookie_values(headers.get("Cookie", "")), headers.get("x-onecrm-csrf-token"))
        for reply in [*response.history, response]:
            learn(*reply.cookies.values())
            raw = getattr(reply.raw, "headers", None)
            for header in (raw.getlist("Set-Cookie") if hasattr(raw, "getlist") else []):
                learn(*_cookie_values(header.split(";", 1)[0]))
            learn(reply.headers.get("x-onecrm-csrf-token"))
        learn(*_token_values(json_or_none(response.content, response.headers.get("Content-Type", ""))))

    def _body(self, body, content_type: str):
        if body is None:
            return None
        text = body.decode("utf-8", "replace") if isinstance(body, bytes) else str(body)
        data = json_or_none(text, content_type)
        if data is not None:  # redacted first, then cut: an excerpt never shows what the whole would have masked
            redacted = self.redactor.mapping(data)
            if len(text) <= _EVIDENCE_CHARS:
                return redacted
            return f"{json.dumps(redacted)[:_BODY_EXCERPT]} ... (an excerpt: {len(text)} characters in all)"
        if "x-www-form-urlencoded" in content_type:
            from urllib.parse import parse_qsl

            return self.redactor.mapping(dict(parse_qsl(text)))
        return self.redactor.text(text)[:_BODY_EXCERPT]  # masked whole, then cut: no token half-shown


# Keys whose values are credentials; a password is never learnt from a reply (the configured ones are known),
# and "password_expires" and the like are facts, not secrets.
_TOKEN_KEY = re.compile(r"token|secret|csrf|^sid$|session_?id|cookie|authorization|api_?key", re.IGNORECASE)
_TOKEN_FACT = re.compile(r"(type|expires?|expires_in|_at|_in|_name|_url)$", re.IGNORECASE)  # token_type: Bearer


def json_or_none(content: bytes | str | None, content_type: str = ""):
    """The JSON a reply carries, or None. Read by its content type or, whatever the type says, by its first
    character: a server that labels JSON as text/html still hands its tokens over (and they must be masked)."""
    if not content:
        return None
    text = content.decode("utf-8", "replace") if isinstance(content, bytes) else content
    if "json" not in content_type.lower() and not text.lstrip().startswith(("{", "[")):
        return None
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # RecursionError: a hostile reply nested beyond the parser's depth
        return None


def _cookie_values(header: str) -> list[str]:
    """The values of a Cookie header (name=value; name=value) or of one Set-Cookie's first part."""
    return [part.split("=", 1)[1].strip().strip('"') for part in header.split(";") if "=" in part]


def _token_values(data, depth: int = 0) -> list[str]:
    """String values under token-like keys (access_token, refresh_token, csrf, session ...), at any depth."""
    found: list[str] = []
    if depth > 20:
        return found
    if isinstance(data, dict):
        for key, value in data.items():
            if isinstance(value, str) and _TOKEN_KEY.search(str(key)) and not _TOKEN_FACT.search(str(key)):
                found.append(value)
            else:
                found += _token_values(value, depth + 1)
    elif isinstance(data, list):
        for value in data[:1000]:
            found += _token_values(value, depth + 1)
    return found


class _Watched:
    """A connection whose sockets the request's deadline can cut (readiness/deadline.py)."""

    def _new_conn(self):
        sock = super()._new_conn()
        self._readiness_ticket = deadline.current()
        deadline.attach(sock)  # before the TLS handshake, which a server can drip too
        return sock

    def request(self, *args, **kwargs):
        ticket = deadline.current()
        if self.sock is not None and getattr(self, "_readiness_ticket", None) is not ticket:
            self._readiness_ticket = ticket  # a kept-alive connection, now serving another request
            deadline.attach(self.sock)
        return super().request(*args, **kwargs)


class _WatchedHTTPConnection(_Watched, HTTPConnection):
    pass


class _WatchedHTTPSConnection(_Watched, HTTPSConnection):
    pass


_WATCHED = {HTTPConnection: _WatchedHTTPConnection, HTTPSConnection: _WatchedHTTPSConnection}


class CrmAdapter(HTTPAdapter):
    """Every request that leaves the process passes here, each redirect too: the read-only guard, the
    deadline and the cap on the reply's size hold for all of them."""

    def __init__(self, session: CrmSession, **kwargs):
        self._session = session
        super().__init__(**kwargs)

    def get_connection_with_tls_context(self, request, verify, proxies=None, cert=None):
        pool = super().get_connection_with_tls_context(request, verify, proxies=proxies, cert=cert)
        pool.ConnectionCls = _WATCHED.get(pool.ConnectionCls, pool.ConnectionCls)
        return pool

    def send(self, request, stream=False, timeout=None, verify=True, cert=None, proxies=None):
        self._session.guard(request.method, request.url, request.headers)
        limit = timeout if isinstance(timeout, (int, float)) else self._session.timeout
        started = time.monotonic()
        with deadline.bounded(self._session.timeout) as ticket:
            try:
                if ticket.expired:
                    raise deadline.DeadlinePassed
                left = max(ticket.remaining(), 0.001)  # each socket wait at most what the deadline leaves
                response = super().send(request, stream=True, timeout=(min(limit, left), min(limit, left)),
                                        verify=verify, cert=cert, proxies=proxies)
                _read_body(response, request)
                if ticket.expired:  # the reaper cut the reply short
                    raise deadline.DeadlinePassed
                return response
            except ReplyTooLarge as exc:
                self._session.log.record_failure(request.method, request.url, str(exc), started)
                raise
            except _NoTimeToRetry as exc:
                asked = f" and asks to be retried after {exc.retry_after} s" if exc.retry_after else ""
                problem = ServerError(f"{_origin(request.url)} answered HTTP {exc.status}{asked}: no time is left to "
                                      f"retry within the request's {self._session.timeout:g} s (CRM_TIMEOUT)",
                                      url=request.url, status=exc.status)
                self._session.log.record_failure(request.method, request.url, str(problem), started)
                raise problem from None
            except (deadline.DeadlinePassed, requests.RequestException) as exc:
                if ticket.expired or isinstance(exc, deadline.DeadlinePassed):
                    problem = ticket.error(_origin(request.url), request.url)
                    self._session.log.record_failure(request.method, request.url, str(problem), started)
                    raise problem from None
                raise


def _read_body(response: requests.Response, request) -> None:
    """The whole body, or ReplyTooLarge once it passes MAX_REPLY_BYTES (an endless stream included)."""
    chunks, size = [], 0
    for chunk in response.iter_content(64 * 1024):
        size += len(chunk)
        if size > MAX_REPLY_BYTES:
            response.close()
            raise ReplyTooLarge(
                f"the server's reply exceeded {MAX_REPLY_BYTES // 2**20} MB ({request.method} "
                f"{urlsplit(request.url).path}, HTTP {response.status_code}): the suite does not read further",
                url=request.url, status=response.status_code)
        chunks.append(chunk)
    response._content = b"".join(chunks)


def _origin(url: str) -> str:
    where = urlsplit(url)
    return f"{where.scheme}://{where.netloc}"


class CrmSession(requests.Session):
    """requests.Session with the suite's policies; raise_for_network turns faults into CrmErrors."""

    def __init__(self, *, timeout: float, verify: str | bool, proxy: str | None, read_only: bool, log: ExchangeLog):
        super().__init__()
        self.timeout = timeout
        self.verify = verify
        self.read_only = read_only
        self.log = log
        self.trust_env = False  # only CRM_PROXY and CRM_CA_BUNDLE decide, never stray variables
        if proxy:
            self.proxies = {"http": proxy, "https": proxy}
        adapter = CrmAdapter(self, max_retries=retry_policy(), pool_maxsize=16)
        self.mount("http://", adapter)
        self.mount("https://", adapter)
        self.headers["User-Agent"] = "riva-readiness"
        self.hooks["response"].append(lambda response, **_: self.log.record(response))

    @classmethod
    def for_settings(cls, settings, log: ExchangeLog, **overrides):
        """A session with the run's policies (timeout, TLS trust, proxy, read-only mode): the one place every
        session of the suite, the concurrency probe's included, takes them from."""
        policies = {"timeout": settings.timeout, "verify": settings.tls_verify, "proxy": settings.proxy,
                    "read_only": settings.read_only, "log": log}
        return cls(**{**policies, **overrides})

    def guard(self, method: str, url: str, headers) -> None:
        """G1: in read-only mode nothing but reads and sign-ins leaves the process."""
        verb = self.effective_verb(method, headers)
        if self.read_only and verb not in READ_VERBS and not urlsplit(url).path.endswith(SIGN_IN_PATHS):
            raise ReadOnlyViolation(
                f"read-only mode: refused to send {verb} {urlsplit(url).path} (READINESS_MODE=read-only)"
            )

    def request(self, method, url, **kwargs):
        self.guard(method, url, kwargs.get("headers"))
        if self.effective_verb(method, kwargs.get("headers")) not in READ_VERBS:
            kwargs["allow_redirects"] = False  # a redirected write could land anywhere: never follow one
        kwargs.setdefault("timeout", self.timeout)
        started = time.monotonic()
        deadline.check_run()
        with deadline.bounded(self.timeout):  # one deadline for the request, its redirects and retries
            try:
                return super().request(method, url, **kwargs)
            except requests.RequestException as exc:
                problem = describe_network_error(exc, url, self.timeout)
                self.log.record_failure(method, url, str(problem), started)
                if isinstance(problem, CrmUnreachable):
                    root_causes.met(root_causes.TLS if isinstance(problem, TlsError) else root_causes.CONNECTION,
                                    str(problem))
                raise problem from None

    @staticmethod
    def effective_verb(method: str, headers) -> str:
        override = (headers or {}).get("X-HTTP-Method-Override")
        return (override or method).upper()


def describe_network_error(exc: requests.RequestException, url: str, timeout: float) -> Exception:
    """One clear sentence per kind of network fault (G4: no stack traces)."""
    where = urlsplit(url)
    target = f"{where.scheme}://{where.netloc}"
    reason = _root_cause(exc)
    if isinstance(exc, requests.exceptions.SSLError):
        return TlsError(f"TLS with {target} failed: {reason}", url=url)
    if isinstance(exc, requests.exceptions.ProxyError):
        return CrmUnreachable(f"the proxy did not connect to {target}: {reason}", url=url)
    if isinstance(exc, requests.exceptions.Timeout) or _read_timed_out(exc):
        return CrmTimeout(f"{target} did not answer within {timeout:g} s", url=url)
    if isinstance(exc, requests.exceptions.RetryError):
        return ServerError(f"{target} kept failing after bounded retries: {reason}", url=url)
    if isinstance(exc, requests.exceptions.ConnectionError):
        if "Name or service not known" in reason or "getaddrinfo" in reason or "nodename nor servname" in reason:
            return CrmUnreachable(f"the host name {where.hostname} does not resolve", url=url)
        return CrmUnreachable(f"cannot connect to {target}: {reason}", url=url)
    return CrmUnreachable(f"request to {target} failed: {reason}", url=url)


def _read_timed_out(exc: requests.RequestException) -> bool:
    """A read time-out that outlived its retries arrives as a ConnectionError wrapping urllib3's error."""
    inner = exc.args[0] if exc.args else None
    return isinstance(getattr(inner, "reason", None), ReadTimeoutError)


def _root_cause(exc: BaseException) -> str:
    """The innermost useful message of a requests/urllib3 exception chain."""
    seen = exc
    while True:
        inner = getattr(seen, "reason", None) or seen.__context__ or seen.__cause__
        if inner is None or inner is seen or not isinstance(inner, BaseException):
            break
        seen = inner
        if isinstance(inner, (OSError,)) and not isinstance(inner, requests.RequestException):
            break
    text = str(seen) or type(seen).__name__
    return text.split("] ", 1)[-1] if text.startswith("[") else text
