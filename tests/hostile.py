"""Small hostile HTTP servers on 127.0.0.1 that misbehave on purpose: they drip, never stop sending, page
for ever or redirect writes. Each runs in daemon threads and stops (its handlers too) when the block ends."""

from __future__ import annotations

import threading
from collections.abc import Callable
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Reply = Callable[["Handler"], None]


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server

    def log_message(self, *args) -> None:  # quiet
        pass

    def _any(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(length) if length else b""
        with self.server.lock:
            self.server.seen.append((self.command, self.path))
        try:
            self.server.reply(self)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the suite hung up, as it should

    do_GET = do_POST = do_PATCH = do_DELETE = do_PUT = do_HEAD = _any

    @property
    def stopping(self) -> threading.Event:
        return self.server.stopping

    def send(self, status: int, body: bytes = b"", content_type: str = "application/json", **headers) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers.items():
            self.send_header(name.replace("_", "-"), value)
        self.end_headers()
        self.wfile.write(body)

    def drip(self, data: bytes, every: float) -> None:
        """One byte at a time, `every` seconds apart, until done or the server stops."""
        for byte in data:
            if self.stopping.wait(every):
                return
            self.wfile.write(bytes([byte]))
            self.wfile.flush()


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, reply: Reply):
        super().__init__(("127.0.0.1", 0), Handler)
        self.reply = reply
        self.seen: list[tuple[str, str]] = []
        self.lock = threading.Lock()
        self.stopping = threading.Event()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}"


@contextmanager
def hostile_server(reply: Reply):
    """A server that answers every request with reply(handler); yields it (.url, .seen)."""
    server = _Server(reply)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(5)


def dripping(every: float = 2.0) -> Reply:
    """A 200 JSON reply whose status line and headers come one byte every `every` seconds."""
    def reply(handler: Handler) -> None:
        handler.drip(b'HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}', every)
    return reply
