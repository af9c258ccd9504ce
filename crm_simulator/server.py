"""``Simulator``: one simulated 1CRM server on a local port, run in a background thread."""

from __future__ import annotations

import csv
import errno
import json
import re
import shutil
import socket
import ssl
import tempfile
import threading
from pathlib import Path
from typing import Callable, Iterable

from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import create_app
from .context import ServerContext
from .faults import Fault, Faults
from .auth import AuthState
from . import directory
from .capacity import Capacity
from .presets import Preset, get_preset
from .seed import CONNECTION_PASSWORD, CONNECTION_USER, KNOWN_PASSWORDS
from .store import Store
from .tls import build_tls

OAUTH_CLIENT_ID = "riva-readiness"
OAUTH_CLIENT_SECRET = "sim-client-secret"
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
OVERRIDE_METHODS = frozenset({"PUT", "PATCH", "DELETE"})
_NOT_FOUND = b"<html><head><title>404 Not Found</title></head><body><h1>Not Found</h1></body></html>\n"


class Stats:
    """What reached the server, in order. Thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._requests: list[tuple[str, str, str]] = []
        self._stray: list[tuple[str, str, str]] = []
        self._data_writes = 0

    def record(self, method: str, path: str, query_string: str) -> None:
        with self._lock:
            self._requests.append((method, path, query_string))
            # Anything that would change CRM data; POST + X-HTTP-Method-Override is a POST too.
            if method in WRITE_METHODS and path.startswith("/api.php/data/"):
                self._data_writes += 1

    def record_stray(self, method: str, path: str, query_string: str) -> None:
        with self._lock:
            self._stray.append((method, path, query_string))

    @property
    def stray_requests(self) -> list[tuple[str, str, str]]:
        """Requests outside the base path (answered 404), with their full path; never data writes."""
        with self._lock:
            return list(self._stray)

    @property
    def requests(self) -> list[tuple[str, str, str]]:
        """(method as sent, path relative to the base path, raw query string), oldest first."""
        with self._lock:
            return list(self._requests)

    def count(self, method: str | None = None, path_prefix: str | None = None) -> int:
        with self._lock:
            return sum(
                1
                for m, p, _ in self._requests
                if (method is None or m == method.upper()) and (path_prefix is None or p.startswith(path_prefix))
            )

    @property
    def data_writes(self) -> int:
        with self._lock:
            return self._data_writes

    def reset(self) -> None:
        with self._lock:
            self._requests.clear()
            self._stray.clear()
            self._data_writes = 0


class _Mount:
    """WSGI wrapper: counts every request, serves the app under the base path, applies overrides."""

    def __init__(self, app, base_path: str, stats: Stats):
        self.app = app
        self.base_path = base_path
        self.stats = stats

    def __call__(self, environ, start_response):
        path = environ.get("PATH_INFO", "") or "/"
        method = environ.get("REQUEST_METHOD", "GET").upper()
        query = environ.get("QUERY_STRING", "")
        base = self.base_path
        if base and not (path == base or path.startswith(base + "/")):
            self.stats.record_stray(method, path, query)
            start_response("404 Not Found", [("Content-Type", "text/html"), ("Content-Length", str(len(_NOT_FOUND)))])
            return [_NOT_FOUND]
        relative = path[len(base):] or "/"
        self.stats.record(method, relative, query)
        override = environ.get("HTTP_X_HTTP_METHOD_OVERRIDE", "").strip().upper()
        if method == "POST" and override in OVERRIDE_METHODS and relative.startswith("/api.php/"):
            environ["REQUEST_METHOD"] = override  # for proxies that block verbs (1crm-api.md §1)
        environ["SCRIPT_NAME"] = environ.get("SCRIPT_NAME", "") + base
        environ["PATH_INFO"] = relative
        return self.app(environ, start_response)


class _RequestBody:
    """The request stream cut at the end of this request's body (Content-Length), as a keep-alive server
    must read it: the application, and werkzeug's own clean-up read after each reply, never reach into the
    next request on the connection."""

    def __init__(self, raw, length: int):
        self.raw, self.left = raw, length

    def read(self, size=-1):
        size = self.left if size is None or size < 0 else min(size, self.left)
        data = self.raw.read(size) if size else b""
        self.left -= len(data)
        return data

    def readline(self, size=-1):
        size = self.left if size is None or size < 0 else min(size, self.left)
        line = self.raw.readline(size) if size else b""
        self.left -= len(line)
        return line

    def readinto(self, buffer):
        data = self.read(len(buffer))
        buffer[:len(data)] = data
        return len(data)

    def __getattr__(self, name):
        return getattr(self.raw, name)


# What Apache (mod_ssl) answers a plain http request on its TLS port, in plain http.
_PLAIN_HTTP_PAGE = (b'<!DOCTYPE HTML PUBLIC "-//IETF//DTD HTML 2.0//EN">\n<html><head>\n<title>400 Bad Request</title>\n'
                    b"</head><body>\n<h1>Bad Request</h1>\n<p>Your browser sent a request that this server could not "
                    b"understand.<br />\nReason: You're speaking plain HTTP to an SSL-enabled server port.<br />\n "
                    b"Instead use the HTTPS scheme to access this URL, please.<br />\n</p>\n</body></html>\n")
PLAIN_HTTP_ON_TLS_PORT = (b"HTTP/1.1 400 Bad Request\r\nServer: Apache\r\nContent-Type: text/html; charset=iso-8859-1\r\n"
                          b"Content-Length: " + str(len(_PLAIN_HTTP_PAGE)).encode() + b"\r\nConnection: close\r\n\r\n"
                          + _PLAIN_HTTP_PAGE)


def _handler_class(log_requests: bool) -> type[WSGIRequestHandler]:
    class Handler(WSGIRequestHandler):
        """werkzeug closes every connection after one reply; Apache keeps it open (KeepAlive On, its default),
        as Riva's sessions expect. Without that, every request over TLS costs a new handshake."""

        timeout = 60  # idle keep-alive connections give their worker thread back eventually
        disable_nagle_algorithm = True  # headers and body are two writes: without it, each reply waits 40 ms
        _keep_alive = False  # only while a well-framed request is served; an error page always closes

        def handle(self) -> None:
            if isinstance(self.connection, ssl.SSLSocket):
                try:
                    self.connection.do_handshake()
                except ssl.SSLError as exc:
                    if exc.reason == "HTTP_REQUEST":  # plain http on the TLS port: Apache's mod_ssl answers 400
                        socket.socket.sendall(self.connection, PLAIN_HTTP_ON_TLS_PORT)
                    return
                except OSError:
                    return
            super().handle()

        def send_header(self, keyword: str, value: str) -> None:
            if (keyword.lower(), value.lower()) == ("connection", "close") and self._keep_alive:
                return  # werkzeug's unconditional close, dropped: http.server then serves the next request
            super().send_header(keyword, value)

        def run_wsgi(self) -> None:
            length = self.headers.get("Content-Length") or "0"
            chunked = "chunked" in self.headers.get("Transfer-Encoding", "").lower()
            asked_close = self.headers.get("Connection", "").lower() == "close" or self.request_version != "HTTP/1.1"
            self._keep_alive = length.isdigit() and not chunked and not asked_close
            if not self._keep_alive:
                return super().run_wsgi()  # werkzeug's way: one request, then the connection closes
            body = self.rfile = _RequestBody(self.rfile, int(length))
            try:
                super().run_wsgi()
            finally:
                self.rfile, self._keep_alive = body.raw, False
            while body.left > 0 and not self.close_connection:  # what nobody read of the body, skipped
                self.close_connection = not body.read(1 << 16)

        def log(self, type: str, message: str, *args) -> None:
            if log_requests:
                super().log(type, message, *args)

    return Handler


def _normalise_base_path(base_path: str) -> str:
    base = "/" + (base_path or "").strip("/")
    return "" if base == "/" else base


_PORT_ATTEMPTS = 20


def _ipv6_loopback_free(port: int) -> bool | None:
    """Whether ::1 has this port free; None where the host has no IPv6 loopback."""
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_STREAM) as probe:
            probe.bind(("::1", port))
        return True
    except OSError as exc:
        return False if exc.errno == errno.EADDRINUSE else None


class Simulator:
    """A simulated 1CRM server in a background thread. Use as a context manager or start()/stop()."""

    def __init__(
        self,
        preset: "str | Preset" = "healthy",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        tls: bool | None = None,
        base_path: str = "/1crm",
        password: str | None = None,
        client_secret: str | None = None,
        log_requests: bool = False,
        faults: "Iterable[str | Fault]" = (),
        middleware: "Callable | None" = None,
    ):
        self.preset: Preset = get_preset(preset)
        self.host = host
        self.tls: bool = self.preset.tls if tls is None else bool(tls)
        self.base_path = _normalise_base_path(base_path)
        self.password = password if password is not None else CONNECTION_PASSWORD
        self.client_id: str | None = OAUTH_CLIENT_ID if self.preset.oauth_client else None
        self.client_secret: str | None = (
            (client_secret if client_secret is not None else OAUTH_CLIENT_SECRET) if self.preset.oauth_client else None
        )
        self.stats = Stats()
        self.faults = Faults(faults)  # crm_simulator/faults.py: injected network and server faults
        # A test's own misbehaviour around the whole app under the base path: middleware(app) -> WSGI app.
        self.middleware = middleware
        self._requested_port = port
        self._log_requests = log_requests
        self._lock = threading.Lock()
        self._servers: list[BaseWSGIServer] = []  # 127.0.0.1, and ::1 where the host has IPv6
        self._threads: list[threading.Thread] = []
        self._tmpdir: Path | None = None
        self._ca_bundle: Path | None = None
        self._auth: AuthState | None = None
        self._context: ServerContext | None = None
        self.store: Store | None = None
        self.capacity: Capacity | None = None  # its .refused counts 503 answers
        self.port: int | None = None

    # ----- lifecycle -------------------------------------------------------------------------

    def start(self) -> "Simulator":
        with self._lock:
            if self._servers:
                return self
            try:
                self._start()
            except BaseException:
                self._cleanup()
                raise
        return self

    def _start(self) -> None:
        ssl_context = None
        self._tmpdir = Path(tempfile.mkdtemp(prefix="crm-simulator-"))  # CA bundle, targets file
        if self.tls:
            ssl_context, self._ca_bundle = build_tls(self.preset.cert, self._tmpdir)
        self.store = Store(self.preset, connection_password=self.password)
        self._auth = AuthState(self.preset.token_lifetime)
        ctx = self._context = ServerContext(self.preset, self.store, self._auth, self.client_id, self.client_secret)
        self.capacity = Capacity(self.faults.wrap(create_app(ctx)), self.preset)  # a hung request holds a worker
        inner = self.middleware(self.capacity) if self.middleware else self.capacity
        app = _Mount(inner, self.base_path, self.stats)
        servers = [self._listen(self.host, self._requested_port, app, ssl_context)]
        if self.host == "127.0.0.1" and not self._requested_port:
            # `localhost` is ::1 as well, which PHP and some Windows set-ups try first: listen there on the same port.
            for attempt in range(_PORT_ATTEMPTS):
                free = _ipv6_loopback_free(servers[0].port)
                if free is None:
                    break  # a host without IPv6 resolves localhost to 127.0.0.1 only
                if free:
                    try:
                        servers.append(self._listen("::1", servers[0].port, app, ssl_context))
                        break
                    except OSError:
                        pass  # taken since: another port
                servers[0].server_close()
                if attempt == _PORT_ATTEMPTS - 1:
                    raise OSError(errno.EADDRINUSE, "crm_simulator: no port free on both 127.0.0.1 and ::1")
                servers = [self._listen(self.host, 0, app, ssl_context)]
        self._servers = servers
        self.port = servers[0].port
        for server in servers:
            thread = threading.Thread(
                target=server.serve_forever,
                kwargs={"poll_interval": 0.1},  # stop() returns within ~0.1 s
                name=f"crm-simulator-{self.preset.name}-{self.port}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)

    def _listen(self, host: str, port: int, app, ssl_context) -> BaseWSGIServer:
        try:
            return make_server(host, port, app, threaded=True, request_handler=_handler_class(self._log_requests),
                               ssl_context=ssl_context)
        except SystemExit:
            # werkzeug reports a busy port by printing and exiting; a library must raise instead.
            raise OSError(errno.EADDRINUSE, f"crm_simulator: cannot listen on {host}:{port}") from None

    def stop(self) -> None:
        with self._lock:
            self._cleanup()

    def _cleanup(self) -> None:
        servers, threads = self._servers, self._threads
        self._servers, self._threads = [], []
        if self._context is not None:
            self._context.stopping.set()  # releases stalled pages (the *-hangs presets)
        self.faults.release()  # hanging requests end when the server stops
        for server, thread in zip(servers, threads + [None] * len(servers)):
            if thread is not None and thread.is_alive():
                server.shutdown()
                thread.join(timeout=5)
            server.server_close()
        if self._tmpdir is not None:
            shutil.rmtree(self._tmpdir, ignore_errors=True)
            self._tmpdir = None
            self._ca_bundle = None

    def __enter__(self) -> "Simulator":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        return bool(self._servers)

    # ----- what clients need -------------------------------------------------------------------

    def _require_running(self) -> None:
        # After stop() the address stays readable (for reports); before the first start() it is unknown.
        if self.port is None:
            raise RuntimeError("The simulator has not been started: call start() or use it as a context manager")

    @property
    def url(self) -> str:
        """Address of the login window, without a trailing slash."""
        self._require_running()
        if self.tls:
            host = "localhost"  # the name the certificate is issued for
        else:
            host = "127.0.0.1" if self.host in ("", "0.0.0.0", "::") else self.host
        if ":" in host:
            host = f"[{host}]"
        return f"{'https' if self.tls else 'http'}://{host}:{self.port}{self.base_path}"

    @property
    def ca_bundle(self) -> str | None:
        """Path of the CA PEM clients should trust (https only)."""
        return str(self._ca_bundle) if self._ca_bundle is not None else None

    def env(self) -> dict[str, str]:
        """The suite's settings for this server."""
        values = {"CRM_URL": self.url, "CRM_USERNAME": CONNECTION_USER, "CRM_PASSWORD": self.password}
        if self.client_id is not None:
            values["CRM_CLIENT_ID"] = self.client_id
            values["CRM_CLIENT_SECRET"] = self.client_secret or ""
        if self.ca_bundle is not None:
            values["CRM_CA_BUNDLE"] = self.ca_bundle
        if self.preset.targets:
            values.update(self._targets_file())
        values["READINESS_SERVER_FACTS"] = self._server_facts_file()
        return values

    def _server_facts_file(self) -> str:
        """What tools/collect-server-facts.sh would write on this server's host: a prefork Apache whose
        MaxRequestWorkers is the preset's worker ceiling, mod_php children of the preset's size, OPcache on."""
        self._require_running()
        p = self.preset
        facts = {
            "schema": "riva-readiness-server-facts/1", "collected_at": "2026-12-01T08:00:00Z",
            "hostname": f"simulator-{p.name}", "ram_mb": p.ram_mb, "swap_mb": 2048, "swap_used_mb": 0,
            "web_server": "Apache/2.4.62 (Debian)", "mpm": "prefork", "max_request_workers": p.max_request_workers,
            "server_limit": p.max_request_workers, "threads_per_child": 1, "keep_alive": True,
            "keep_alive_timeout_s": 3, "php_handler": "mod_php", "php_fpm_max_children": None,
            "worker_process": "apache2", "worker_count": min(p.max_request_workers, 12),
            "worker_rss_avg_mb": p.worker_rss_mb, "worker_rss_p95_mb": round(p.worker_rss_mb * 1.4, 1),
            "php_memory_limit_mb": 256, "opcache": True,
            "unavailable": {"php_fpm_max_children": "PHP does not run under PHP-FPM here"},
        }
        path = self._tmpdir / "server-facts.json"
        path.write_text(json.dumps(facts, indent=2) + "\n", encoding="utf-8")
        return str(path)

    def mailboxes(self) -> list[str]:
        """The preset's target mailboxes, in order (the targets file's rows, the directory's entries)."""
        self._require_running()
        return list(self.preset.targets + tuple(self.store.faker_mailboxes[: self.preset.bulk_targets]))

    def ldif(self, base_dn: str = "dc=example,dc=com") -> str:
        """The mail system's directory for the preset's targets (crm_simulator/directory.py), to load under base_dn;
        its group is directory.group_dn(base_dn)."""
        self._require_running()
        return directory.ldif(self.store, self.mailboxes(), base_dn)

    def _targets_file(self) -> dict[str, str]:
        """Writes the preset's targets file; probe users' passwords go in PROBE_<USER>_PASSWORD variables."""
        self._require_running()
        rows, passwords = [["email", "password_env"]], {}
        for email in self.mailboxes():
            variable = ""
            if email in self.preset.probe_users:
                user_name = email.split("@")[0]
                variable = "PROBE_" + re.sub(r"\W", "_", user_name).upper() + "_PASSWORD"
                wrong = "-but-wrong" if email in self.preset.wrong_probe_passwords else ""
                passwords[variable] = KNOWN_PASSWORDS[user_name] + wrong
            rows.append([email, variable])
        path = self._tmpdir / "targets.csv"
        with path.open("w", newline="", encoding="utf-8") as handle:
            csv.writer(handle).writerows(rows)
        return {"RIVA_TARGETS_FILE": str(path), **passwords}

    def active_web_sessions(self) -> int:
        """Number of web (PHPSESSID) sessions signed in and not yet signed out."""
        return self._auth.active_sessions() if self._auth is not None else 0

    def issued_credentials(self) -> list[str]:
        """Every token, session cookie and CSRF token this server handed out (none may appear in a report)."""
        return self._auth.issued() if self._auth is not None else []

    def expire_tokens(self) -> None:
        """Make every access token issued so far expire now (to test refresh and re-sign-in)."""
        if self._auth is not None:
            self._auth.expire_access_tokens()

    def __repr__(self) -> str:
        where = self.url if self.running else "stopped"
        return f"<Simulator {self.preset.name} {where}>"


def env_lines(values: dict[str, str]) -> Iterable[str]:
    return (f"{key}={value}" for key, value in values.items())


__all__ = ["Simulator", "Stats", "OAUTH_CLIENT_ID", "OAUTH_CLIENT_SECRET", "env_lines"]
