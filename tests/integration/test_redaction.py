"""The run's one masking policy (readiness/redaction.py), and what it learns on the wire from a hostile server."""

import base64
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import quote, quote_plus

import pytest

from readiness.http import CrmSession, ExchangeLog
from readiness.redaction import MASK, Redactor, proxy_credentials, url_without_password


def test_known_secrets_are_masked_in_any_form():
    redactor = Redactor()
    redactor.add("p@ss word!", None)
    redactor.add_basic_credentials("riva", "p@ss word!")
    text = "pw=p@ss word! form=p%40ss+word%21 url=p%40ss%20word%21 basic=cml2YTpwQHNzIHdvcmQh"
    assert redactor.text(text) == f"pw={MASK} form={MASK} url={MASK} basic={MASK}"


@pytest.mark.parametrize("secret", ["Zebra-Pass-9", "pä\"ss\\wörd", "a+b/c=d"])
def test_every_encoded_form_of_a_secret_is_masked(secret):
    redactor = Redactor(secret)
    forms = {
        "raw": secret, "url": quote(secret, safe=""), "form": quote_plus(secret),
        "json": json.dumps(secret)[1:-1], "json-ascii": json.dumps(secret, ensure_ascii=True)[1:-1],
        "base64": base64.b64encode(secret.encode()).decode(),
        "base64url": base64.urlsafe_b64encode(secret.encode()).decode().rstrip("="),
    }
    for name, form in forms.items():
        assert redactor.text(f"before {form} after") == f"before {MASK} after", name


@pytest.mark.parametrize("secret", ["Q", "Zq", "k9!"])
def test_short_secrets_are_masked_as_whole_words_and_ordinary_words_stay_readable(secret):
    redactor = Redactor()
    redactor.add_basic_credentials("riva_svc", secret)
    for leak in (f"password={secret}&x=1", f'"password": "{secret}"', f"riva_svc:{secret}", f"password = '{secret}'",
                 f"{secret}", f"user_password={quote_plus(secret)}",
                 "Basic " + base64.b64encode(f"riva_svc:{secret}".encode()).decode()):
        assert not redactor.reveals(redactor.text(leak)), leak
        assert MASK in redactor.text(leak), leak
    readable = f"x{secret}y"  # inside a word it is no password, and stays readable
    assert redactor.text(readable) == readable


def test_a_short_secret_is_a_secret_in_the_reveals_check_too():
    redactor = Redactor("ab")
    assert redactor.reveals("password is ab.") and not redactor.reveals("about the cabin")


def test_tokens_learnt_from_the_wire_need_a_credential_length_but_configured_secrets_do_not():
    redactor = Redactor()
    redactor.learn("abc", "long-session-cookie-value")
    assert redactor.text("abc long-session-cookie-value") == f"abc {MASK}"
    redactor.learn_authorization("Basic " + base64.b64encode(b"alice:x").decode())
    assert redactor.text("alice:x and x") == f"{MASK} and {MASK}"


def test_a_token_cut_short_by_an_excerpt_is_still_masked():
    token = "eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJyaXZhIn0.c2lnbmF0dXJl"
    redactor = Redactor()
    redactor.learn(token)
    excerpt = repr(f"Fatal error: Authorization: Bearer {token}"[:60])  # what a reply excerpt keeps
    assert token[:20] in excerpt and redactor.text(excerpt) == "'Fatal error: Authorization: Bearer ***'"
    assert redactor.text("token=" + token[:30] + " rest") == "token=*** rest"
    assert redactor.text("eyJhbGciOiJIUzI1NiJ9.other-token") == "eyJhbGciOiJIUzI1NiJ9.other-token"  # not a prefix


def test_user_names_and_token_types_stay_readable():
    from readiness.http import _token_values

    redactor = Redactor()
    redactor.add_basic_credentials("alice.archer", "Sim-Alice-Pass-1")
    reply = {"token_type": "Bearer", "expires_in": "3600", "access_token": "a" * 24, "session": {"csrf_token": "c" * 9}}
    assert _token_values(reply) == ["a" * 24, "c" * 9]
    redactor.learn(*_token_values(reply))
    assert redactor.text("alice.archer@example.com: Bearer ***") == "alice.archer@example.com: Bearer ***"


def test_sensitive_keys_are_masked_deeply():
    redactor = Redactor()
    data = {"access_token": "t", "nested": [{"Authorization": "Bearer x", "name": "ok"}], "client_secret": "s"}
    assert redactor.mapping(data) == {"access_token": MASK, "nested": [{"Authorization": MASK, "name": "ok"}],
                                      "client_secret": MASK}


def test_proxy_addresses_are_shown_without_their_password():
    assert url_without_password("http://px:p%40ss@proxy:3128") == f"http://px:{MASK}@proxy:3128"
    assert url_without_password("http://proxy:3128") == "http://proxy:3128"
    assert proxy_credentials("http://px:p%40ss@proxy:3128") == ("px", "p@ss")


def test_the_redactor_never_shows_its_secrets():
    assert "hunter2" not in repr(Redactor("hunter2"))


# -- learnt on the wire, from a server that echoes credentials back ------------------------------------

ISSUED = {"access": "tok-A1b2C3d4E5f6", "refresh": "ref-Z9y8X7w6V5u4", "cookie": "sess-Q1w2E3r4T5y6",
          "foreign": "foreign-domain-cookie-77", "csrf": "csrf-M1n2B3v4C5x6"}


class _EchoingServer(BaseHTTPRequestHandler):
    """Hands out a token and cookies, then echoes every credential it saw into a text/html error page."""

    def log_message(self, *args):
        pass

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))  # read whole: closing on unread data resets
        body = json.dumps({"access_token": ISSUED["access"], "refresh_token": ISSUED["refresh"],
                           "session": {"csrf_token": ISSUED["csrf"]}}).encode()
        if "nested" in self.path:  # deeper than any JSON parser goes
            body = b"[" * 100_000 + b"]" * 100_000
        self.send_response(200)
        self.send_header("Content-Type", "text/html" if "mislabelled" in self.path else "application/json")
        self.send_header("Set-Cookie", f"sid={ISSUED['cookie']}; Path=/")
        self.send_header("Set-Cookie", f"other={ISSUED['foreign']}; Domain=elsewhere.example")  # the jar refuses it
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        echoed = "\n".join(f"{k}: {v}" for k, v in self.headers.items())
        body = (f"<html><body>Fatal error. Request was:\n{echoed}\nTokens: {' '.join(ISSUED.values())} "
                f"{quote(ISSUED['access'])} {base64.b64encode(ISSUED['cookie'].encode()).decode()}</body></html>")
        self.send_response(500)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body.encode())))
        self.end_headers()
        self.wfile.write(body.encode())


@pytest.fixture
def echoing_server():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _EchoingServer)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def _session(redactor: Redactor) -> tuple[CrmSession, ExchangeLog]:
    log = ExchangeLog(redactor)
    session = CrmSession(timeout=5, verify=True, proxy=None, read_only=False, log=log)
    for adapter in session.adapters.values():
        adapter.max_retries = adapter.max_retries.new(total=0)  # the 500 is the evidence, not a fault to retry
    return session, log


@pytest.mark.parametrize("token_path", ["access_token", "access_token?mislabelled"])
def test_tokens_cookies_and_basic_credentials_seen_on_the_wire_are_masked_in_the_evidence(echoing_server, token_path):
    """Also when the token reply calls itself text/html: JSON is known by its first character too."""
    redactor = Redactor("Zq")  # a configured 2-character password
    session, log = _session(redactor)
    session.post(f"{echoing_server}/api.php/auth/user/{token_path}", data={"password": "Zq"})
    session.get(f"{echoing_server}/api.php/me", auth=("riva_svc", "Zq"),
                headers={"x-onecrm-csrf-token": "csrf-header-only-55"})
    session.get(f"{echoing_server}/api.php/me", headers={"Authorization": f"Bearer {ISSUED['access']}"})
    evidence = json.dumps([e.as_dict() for e in log.since(0)])
    assert "Fatal error" in evidence  # the echoing page is there, as evidence
    needles = [*ISSUED.values(), quote(ISSUED["access"]), base64.b64encode(ISSUED["cookie"].encode()).decode(),
               base64.b64encode(b"riva_svc:Zq").decode(), "riva_svc:Zq", "csrf-header-only-55"]
    assert [n for n in needles if n in evidence] == []
    assert not redactor.reveals(evidence)


def test_a_reply_nested_beyond_the_parser_is_evidence_not_a_crash(echoing_server):
    session, log = _session(Redactor("Zq"))
    session.post(f"{echoing_server}/api.php/auth/user/access_token?nested", data={"password": "Zq"})
    assert log.since(0)[0].as_dict()["response_body"].startswith("[[[")  # shown as text, cut short
