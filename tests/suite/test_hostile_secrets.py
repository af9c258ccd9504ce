"""The whole suite against a hostile server, through an authenticating proxy, then a secret scan of every output.

The server (the simulator wrapped in a misbehaving middleware) answers the web login with
{"result": "error", "message": 42} (which once crashed inside the sign-in with the password as a local variable);
answers the version with an HTML page of every token it issued; and turns every error reply into a text/plain
page echoing the request's Authorization header, its Basic user:password, its cookies, CSRF token and body,
and every token issued so far (raw, URL-encoded and base64). Some secrets are 1 to 3 characters long.
The run is shown with tracebacks and their local variables (-l --tb=long).
"""

from __future__ import annotations

import base64
import io
import json
import selectors
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote

import pytest
from suite_runner import QUICK_LOAD, run_suite

from crm_simulator import Simulator
from report_tools import basic_forms, leaked_secrets, make_html_report, report_generator_available, secret_forms

pytestmark = pytest.mark.slow

CONNECTION_PASSWORD = "Zq"  # 2 characters
CLIENT_SECRET = "K9x"  # 3 characters
ALICE_PASSWORD = "Q"  # 1 character (and wrong: her sign-in is refused, with the echo)
PROXY_USER, PROXY_PASSWORD = "px", "Pw"


class Hostile:
    """WSGI middleware around the simulator's app (Simulator(middleware=...))."""

    def __init__(self, app, issued):
        self.app = app
        self.issued = issued  # the simulator's issued_credentials

    def __call__(self, environ, start_response):
        body = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
        environ["wsgi.input"] = io.BytesIO(body)
        path, query = environ.get("PATH_INFO", ""), environ.get("QUERY_STRING", "")
        if path == "/json.php" and "action=login" in query:
            return self._reply(start_response, "200 OK", "application/json", json.dumps({"result": "error", "message": 42}))
        if path == "/api.php/version":
            return self._reply(start_response, "200 OK", "text/html", f"<html><body>{self._echo(environ, body)}</body></html>")
        if path.startswith("/api.php/data/ACLRole"):
            return self._reply(start_response, "500 Internal Server Error", "text/plain", self._echo(environ, body))
        captured = {}

        def capture(status, headers, exc_info=None):
            captured.update(status=status, headers=headers)

        reply = self.app(environ, capture)
        try:
            chunks = b"".join(reply)
        finally:
            reply.close()  # gives the simulator's request worker back (WSGI: close() every reply)
        if int(captured["status"].split()[0]) >= 400:
            return self._reply(start_response, captured["status"], "text/plain", self._echo(environ, body))
        start_response(captured["status"], captured["headers"])
        return [chunks]

    def _echo(self, environ, body: bytes) -> str:
        authorization = environ.get("HTTP_AUTHORIZATION", "")
        basic = ""
        if authorization.startswith("Basic "):
            basic = base64.b64decode(authorization[6:]).decode("utf-8", "replace")
        elif body.startswith(b"{"):  # an OAuth password grant: shown as the Basic pair it amounts to
            grant = json.loads(body)
            if grant.get("password"):
                basic = f"{grant.get('username')}:{grant['password']}"
                authorization = "Basic " + base64.b64encode(basic.encode()).decode()
        issued = self.issued()
        return "\n".join([
            f"Fatal error in {environ.get('PATH_INFO')}", f"Authorization: {authorization}", f"Basic credentials: {basic}",
            f"Cookie: {environ.get('HTTP_COOKIE', '')}", f"CSRF: {environ.get('HTTP_X_ONECRM_CSRF_TOKEN', '')}",
            f"Body: {body.decode('utf-8', 'replace')}", "Issued: " + " ".join(issued),
            "Issued, URL-encoded: " + " ".join(quote(t, safe="") for t in issued),
            "Issued, base64: " + " ".join(base64.b64encode(t.encode()).decode() for t in issued)])

    @staticmethod
    def _reply(start_response, status: str, content_type: str, text: str):
        data = text.encode()
        start_response(status, [("Content-Type", content_type), ("Content-Length", str(len(data)))])
        return [data]


def tunnel_proxy():
    """An HTTP CONNECT proxy on 127.0.0.1 that wants Basic credentials; returns (server, url, tunnels opened)."""
    expected = "Basic " + base64.b64encode(f"{PROXY_USER}:{PROXY_PASSWORD}".encode()).decode()
    tunnels: list[str] = []

    class Tunnel(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_CONNECT(self):
            if self.headers.get("Proxy-Authorization") != expected:
                self.send_response(407)
                self.send_header("Proxy-Authenticate", 'Basic realm="test proxy"')
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            host, port = self.path.rsplit(":", 1)
            upstream = socket.create_connection((host, int(port)), timeout=30)
            tunnels.append(self.path)
            self.send_response(200, "Connection established")
            self.end_headers()
            self.close_connection = True
            with selectors.DefaultSelector() as selector, upstream:
                selector.register(self.connection, selectors.EVENT_READ, upstream)
                selector.register(upstream, selectors.EVENT_READ, self.connection)
                while _relay(selector):
                    pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Tunnel)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://{PROXY_USER}:{PROXY_PASSWORD}@127.0.0.1:{server.server_address[1]}", tunnels


def _relay(selector) -> bool:
    """One round of copying between the two ends of a tunnel; False once either end is gone."""
    for key, _ in selector.select(timeout=30):
        try:
            data = key.fileobj.recv(65536)
            if not data:
                return False
            key.data.sendall(data)
        except OSError:
            return False
    return True


def _allure_results(reports_dir):
    return [json.loads(p.read_text(encoding="utf-8")) for p in (reports_dir / "allure-results").glob("*-result.json")]


def _parameters(node):
    yield from node.get("parameters", [])
    for step in node.get("steps", []):
        yield from _parameters(step)


def test_a_hostile_server_gets_no_secret_into_any_output(tmp_path):
    proxy, proxy_url, tunnels = tunnel_proxy()
    simulator = Simulator("healthy", password=CONNECTION_PASSWORD, client_secret=CLIENT_SECRET,
                          middleware=lambda app: Hostile(app, lambda: simulator.issued_credentials()))
    try:
        with simulator:
            env = {**simulator.env(), **QUICK_LOAD, "READINESS_BROWSER": "off",
                   "PROBE_ALICE_ARCHER_PASSWORD": ALICE_PASSWORD, "CRM_PROXY": proxy_url}
            bob_password = env["PROBE_BOB_BAKER_PASSWORD"]
            run = run_suite(env, tmp_path / "reports", "-l", "--tb=long", "-rA", timeout=300)
            issued = simulator.issued_credentials()
    finally:
        proxy.shutdown()
        proxy.server_close()

    # The hostile paths were taken: through the proxy, a crash with locals, echoed credentials as evidence.
    assert run.report["verdict"] == "NO-GO", run.output
    assert tunnels and len(issued) >= 4
    assert run.check("R1.1")["status"] == "passed"  # the CRM answered through the tunnel
    # The web login's {"message": 42} once crashed with the password as a local (now a refusal in its words;
    # a traceback with locals is shown redacted by tests/unit/test_output_safety.py).
    assert run.check("R1.4")["status"] == "failed" and "'42'" in run.check("R1.4")["message"]
    attachments = "".join(p.read_text(encoding="utf-8", errors="replace")
                          for p in (run.reports_dir / "allure-results").glob("*-attachment*"))
    assert "Fatal error in /api.php/data/ACLRole" in attachments and "Basic credentials: ***" in attachments
    names = {p["name"] for result in _allure_results(run.reports_dir) for p in _parameters(result)}
    assert not names & {"settings", "readiness_run", "check"}  # nothing of the run object in Allure

    output = run.output + (make_html_report(run.reports_dir) if report_generator_available() else "")
    secrets = (CONNECTION_PASSWORD, CLIENT_SECRET, ALICE_PASSWORD, PROXY_PASSWORD, bob_password)
    needles = (secret_forms(*secrets, *issued) | basic_forms("riva_svc", CONNECTION_PASSWORD)
               | basic_forms("alice.archer", ALICE_PASSWORD) | basic_forms("bob.baker", bob_password)
               | basic_forms(PROXY_USER, PROXY_PASSWORD) | basic_forms("riva-readiness", CLIENT_SECRET))
    assert leaked_secrets(run.reports_dir, output, needles) == {}
