"""Fault injection: network and server faults a real CRM (or the proxy in front of it) shows.

    Simulator("healthy", faults=["burst-5xx"])                       # defaults of the kind
    Simulator("healthy", faults=["latency:seconds=2,scope=/api.php/auth/"])
    python -m crm_simulator --fault drop:after=3,count=1

A fault applies to the requests whose path (relative to the base path) starts with its `scope`
(default: the REST API), from the `after`-th such request on, for `count` requests (`all`: every one).
"""

from __future__ import annotations

import json
import socket
import threading
from dataclasses import dataclass, fields
from typing import Iterable

# kind -> (what it does, its defaults)
KINDS: dict[str, tuple[str, dict]] = {
    "latency": ("every matching request waits `seconds` before it is served", {"seconds": 0.5}),
    "burst-5xx": ("`count` requests after the first `after` answer 503, 502, 503, … (transient by default)",
                  {"after": 2, "count": 2}),
    "drop": ("the connection closes without a reply", {"count": 1}),
    "hang": ("the request never answers (until the simulator stops or `seconds` pass)", {"seconds": 600.0}),
    "truncated-json": ("the JSON reply is cut in half", {}),
    "html-error": ("an HTML error page (HTTP 200, text/html) instead of JSON", {}),
    "token-expiry": ("each bearer token is refused (401, expired) after `uses` requests", {"uses": 3}),
    "throttle": ("429 Too Many Requests with Retry-After: `seconds`", {"count": 1, "seconds": 1.0}),
    "unavailable": ("503 Service Unavailable with Retry-After: `seconds`", {"count": 1, "seconds": 1.0}),
}
API_SCOPE = "/api.php/"
_HTML_ERROR = (b"<!DOCTYPE html><html><head><title>Error</title></head><body><br />\n<b>Fatal error</b>: "
               b"Allowed memory size exhausted in <b>/var/www/1crm/include/database.php</b> on line <b>412</b>"
               b"<br /></body></html>\n")


@dataclass(frozen=True)
class Fault:
    kind: str
    after: int = 0  # matching requests served untouched first
    count: int | None = None  # faulted requests; None: every one from `after` on
    scope: str = API_SCOPE  # path prefix relative to the base path; "/" for every path
    seconds: float = 0.0  # latency, Retry-After, or how long a hang lasts at most
    uses: int = 0  # token-expiry: requests a token serves before it counts as expired

    @classmethod
    def parse(cls, spec: "str | Fault") -> "Fault":
        """`kind` or `kind:name=value,...`, e.g. `burst-5xx:after=3,count=all`."""
        if isinstance(spec, Fault):
            return spec
        kind, _, options = spec.strip().partition(":")
        if kind not in KINDS:
            raise ValueError(f"unknown fault {kind!r}; known faults: {', '.join(KINDS)}")
        values: dict = dict(KINDS[kind][1])
        types = {f.name: f.type for f in fields(cls)}
        for option in filter(None, options.split(",")):
            name, _, text = option.partition("=")
            name = name.strip()
            if name not in types or name == "kind":
                raise ValueError(f"fault {kind}: unknown option {name!r} (after, count, scope, seconds, uses)")
            try:
                values[name] = (None if text == "all" and name == "count" else
                                text if name == "scope" else float(text) if name == "seconds" else int(text))
            except ValueError:
                raise ValueError(f"fault {kind}: {name}={text!r} is not a number") from None
        return cls(kind, **values)

    def __str__(self) -> str:
        return f"{self.kind}:after={self.after},count={'all' if self.count is None else self.count},scope={self.scope}"


class Faults:
    """The WSGI middleware that applies a run's faults; release() ends every hanging request."""

    def __init__(self, specs: Iterable["str | Fault"] = ()):
        self.faults = tuple(Fault.parse(s) for s in specs)
        self._seen = [0] * len(self.faults)
        self._token_uses: dict[str, int] = {}
        self._lock = threading.Lock()
        self._released = threading.Event()

    def __bool__(self) -> bool:
        return bool(self.faults)

    def release(self) -> None:
        self._released.set()

    def wrap(self, app):
        if not self.faults:
            return app

        def middleware(environ, start_response):
            for fault in self._active(environ.get("PATH_INFO", "")):
                reply = self._apply(fault, environ, start_response, app)
                if reply is not None:
                    return reply
            return app(environ, start_response)

        return middleware

    def _active(self, path: str) -> list[Fault]:
        active = []
        with self._lock:
            for index, fault in enumerate(self.faults):
                if not path.startswith(fault.scope):
                    continue
                seen = self._seen[index]
                self._seen[index] += 1
                if seen >= fault.after and (fault.count is None or seen < fault.after + fault.count):
                    active.append(fault)
        return active

    def _apply(self, fault: Fault, environ, start_response, app):
        kind = fault.kind
        if kind == "latency":
            self._released.wait(fault.seconds)
            return None
        if kind == "burst-5xx":
            status = "502 Bad Gateway" if self._seen[self.faults.index(fault)] % 2 == 0 else "503 Service Unavailable"
            return _json(start_response, status, {"message": "The server is temporarily unable to serve the request"})
        if kind in ("throttle", "unavailable"):
            status = "429 Too Many Requests" if kind == "throttle" else "503 Service Unavailable"
            return _json(start_response, status, {"message": "Try again later"},
                         [("Retry-After", f"{max(fault.seconds, 0):g}")])
        if kind == "hang":
            self._released.wait(fault.seconds)
            return _drop(environ)
        if kind == "drop":
            return _drop(environ)
        if kind == "html-error":
            start_response("200 OK", [("Content-Type", "text/html; charset=UTF-8"), ("Content-Length", str(len(_HTML_ERROR)))])
            return [_HTML_ERROR]
        if kind == "truncated-json":
            return _truncated(app, environ, start_response)
        if kind == "token-expiry":
            return self._expire_tokens(fault, environ, start_response)
        raise AssertionError(kind)

    def _expire_tokens(self, fault: Fault, environ, start_response):
        scheme, _, token = environ.get("HTTP_AUTHORIZATION", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        with self._lock:
            uses = self._token_uses[token] = self._token_uses.get(token, 0) + 1
        if uses <= fault.uses:
            return None
        # The body the simulator gives for any expired token (api.py).
        return _json(start_response, "401 Unauthorized",
                     {"message": "The access token is invalid or has expired", "error": "access_denied"})


def _json(start_response, status: str, body: dict, headers: list | None = None) -> list[bytes]:
    data = json.dumps(body).encode()
    start_response(status, [("Content-Type", "application/json"), ("Content-Length", str(len(data))), *(headers or [])])
    return [data]


class _Dropped(ConnectionAbortedError):
    """werkzeug treats a ConnectionError as a dropped connection: no reply, no error page, no log."""


def _drop(environ):
    connection = environ.get("werkzeug.socket")
    if connection is not None:
        try:
            connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass  # the client went first
    raise _Dropped("connection dropped by fault injection")


def _truncated(app, environ, start_response):
    captured: dict = {}

    def capture(status, headers, exc_info=None):
        captured.update(status=status, headers=headers)
        return lambda data: None

    body = b"".join(app(environ, capture))
    cut = body[: max(len(body) // 2, 1)]
    headers = [(k, v) for k, v in captured["headers"] if k.lower() != "content-length"]
    start_response(captured["status"], [*headers, ("Content-Length", str(len(cut)))])
    return [cut]


def describe() -> list[str]:
    return [f"{kind:<15} {text}" for kind, (text, _) in KINDS.items()]


__all__ = ["Fault", "Faults", "KINDS", "API_SCOPE", "describe"]
