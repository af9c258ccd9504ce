"""R1.1 through CRM_PROXY: the proxy's own refusal (407, 502, ...) is no connection to the CRM.

Stdlib proxies on 127.0.0.1: one that refuses everything with a chosen status, one that forwards plain http.
"""

from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from readiness.access import connect
from readiness.config import parse_crm_address
from readiness.http import CrmSession, ExchangeLog
from readiness.redaction import Redactor

REFUSALS = {
    407: ({"Proxy-Authenticate": 'Basic realm="Corporate proxy"'}, "<html><title>Access denied</title></html>"),
    502: ({}, "<html><head><title>ERROR: The requested URL could not be retrieved</title></head></html>"),
    504: ({"X-Squid-Error": "ERR_READ_TIMEOUT 0"}, "<html><title>Gateway Timeout</title></html>"),
}


def _serve(handler) -> tuple[ThreadingHTTPServer, str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}"


def refusing_proxy(status: int):
    headers, page = REFUSALS[status]
    seen: list[str] = []

    class Refusing(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def _refuse(self):
            seen.append(f"{self.command} {self.path}")
            body = page.encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(body)

        do_GET = do_HEAD = do_CONNECT = _refuse

    server, url = _serve(Refusing)
    return server, url, seen


class _Forwarding(BaseHTTPRequestHandler):
    """A plain-http forward proxy: relays the absolute-URI request to its origin."""

    def log_message(self, *args):
        pass

    def _forward(self):
        target = urlsplit(self.path)
        upstream = http.client.HTTPConnection(target.hostname, target.port, timeout=5)
        upstream.request(self.command, target.path or "/")
        reply = upstream.getresponse()
        body = reply.read()
        self.send_response(reply.status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)
        upstream.close()

    do_GET = do_HEAD = _forward


class _Crm(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def do_HEAD(self):
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()


def session_via(proxy: str) -> CrmSession:
    session = CrmSession(timeout=5, verify=True, proxy=proxy, read_only=True, log=ExchangeLog(Redactor()))
    for adapter in session.adapters.values():  # the gateway statuses are retried: without the waits
        adapter.max_retries = adapter.max_retries.new(backoff_factor=0)
    return session


@pytest.fixture
def crm_server():
    server, url = _serve(_Crm)
    yield url
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("status, words", [(407, 'Basic realm="Corporate proxy"'),
                                           (502, "ERROR: The requested URL could not be retrieved"),
                                           (504, "ERR_READ_TIMEOUT 0")])
def test_a_proxys_refusal_fails_r11_with_its_status_and_words(status, words, crm_server):
    server, proxy, seen = refusing_proxy(status)
    try:
        outcome = connect(parse_crm_address(f"{crm_server}/1crm"), session_via(proxy))
    finally:
        server.shutdown()
        server.server_close()
    assert seen, "the request did not go through the proxy"
    assert not outcome.passed and outcome.verifiable
    assert f"HTTP {status}" in outcome.message and words in outcome.message, outcome.message
    assert "was not reached" in outcome.message and "CRM_PROXY" in outcome.message


def test_a_proxy_refusing_the_tunnel_to_an_https_crm_fails_r11():
    server, proxy, seen = refusing_proxy(407)
    try:
        outcome = connect(parse_crm_address("https://crm.example.invalid/1crm"), session_via(proxy))
    finally:
        server.shutdown()
        server.server_close()
    assert seen and seen[0].startswith("CONNECT crm.example.invalid:443")
    assert not outcome.passed and "407" in outcome.message, outcome.message


def test_the_crms_answer_through_a_forwarding_proxy_passes_r11(crm_server):
    server, proxy = _serve(_Forwarding)
    try:
        outcome = connect(parse_crm_address(f"{crm_server}/1crm"), session_via(proxy))
    finally:
        server.shutdown()
        server.server_close()
    assert outcome.passed and "answered through the proxy (HTTP 200)" in outcome.message, outcome.message
