"""The HTTP layer's guarantees (G1 read-only, G3 redaction, G4 bounded retries) and the REST client."""

from __future__ import annotations

import pytest
import requests
from urllib3.response import HTTPResponse

from crm_simulator import Simulator
from readiness.client import OAuth2PasswordAuth, parse_reply
from readiness.config import load_settings
from readiness.errors import (AccessDenied, ApiNotAvailable, AuthenticationFailed, CrmUnreachable, NonTlsRefused,
                              ReadOnlyViolation, ServerError, UnexpectedReply)
from readiness.http import BoundedRetry
from readiness.run import ReadinessRun


@pytest.fixture(scope="module")
def simulator():
    with Simulator("healthy", password="Distinctive-Pass-42", client_secret="Distinctive-Client-Secret-42") as sim:
        yield sim


def run_for(simulator, **overrides) -> ReadinessRun:
    env = {**simulator.env(), "READINESS_ENV_FILE": "none", **overrides}
    return ReadinessRun(load_settings(env))


def test_read_only_mode_refuses_every_write_before_it_leaves_the_process(simulator):
    run = run_for(simulator, READINESS_MODE="read-only")
    api = run.connection_api
    assert api.me()["id"].startswith("Users:")  # signing in is allowed: it changes no record
    simulator.stats.reset()
    for attempt in (lambda: api.create("Contact", {"last_name": "x"}),
                    lambda: api.update("Contact", "some-id", {"last_name": "x"}),
                    lambda: api.delete("Contact", "some-id"),
                    lambda: api.session.post(f"{api.root}/data/Contact/1", headers={"X-HTTP-Method-Override": "DELETE"}),
                    lambda: api.session.put(f"{api.root}/data/Contact/1")):
        with pytest.raises(ReadOnlyViolation, match="read-only mode: refused to send"):
            attempt()
    assert simulator.stats.requests == [] and simulator.stats.data_writes == 0


def test_full_mode_writes_reach_the_server(simulator):
    api = run_for(simulator).connection_api
    before = simulator.stats.data_writes
    record_id = api.create("Note", {"name": "readiness unit test note"})
    api.delete("Note", record_id)
    assert simulator.stats.data_writes == before + 2


def test_oauth_token_is_renewed_once_after_a_401(simulator):
    api = run_for(simulator).connection_api
    assert isinstance(api.auth, OAuth2PasswordAuth)
    api.me()
    simulator.expire_tokens()
    assert api.me()["id"].startswith("Users:")


def test_lists_are_paged_to_the_end(simulator):
    api = run_for(simulator).connection_api
    users = list(api.list("User", fields=["user_name"], page_size=7))
    total = api._call("GET", "data/User", params={"limit": 1})["total_results"]
    assert len(users) == total > 7
    assert len({u["id"] for u in users}) == total
    paths = [q for m, p, q in simulator.stats.requests if p == "/api.php/data/User"]
    assert any("limit=7" in q for q in paths)


def test_exchanges_are_recorded_without_any_secret(simulator):
    run = run_for(simulator)
    run.connection_api.me()
    text = repr([e.as_dict() for e in run.log.since(0)])
    assert "Distinctive-Pass-42" not in text and "Distinctive-Client-Secret-42" not in text
    token = run.connection_api.auth.token()
    assert token not in text and "***" in text


def test_bad_password_and_bad_client_are_told_apart(simulator):
    with pytest.raises(AuthenticationFailed, match="user name or password was refused"):
        run_for(simulator, CRM_PASSWORD="wrong-password").connection_api.me()
    with pytest.raises(AuthenticationFailed, match="check CRM_CLIENT_ID and CRM_CLIENT_SECRET"):
        run_for(simulator, CRM_CLIENT_SECRET="wrong-secret").connection_api.me()


def test_a_forbidden_model_is_access_denied(simulator):
    run = run_for(simulator, CRM_USERNAME="bob.baker", CRM_PASSWORD="Sim-Bob-Pass-1")
    with pytest.raises(AccessDenied) as denied:
        next(run.connection_api.list("ACLRole"))
    assert denied.value.status == 403


@pytest.mark.parametrize("preset, error", [("startup-edition", ApiNotAvailable), ("non-tls-refused", NonTlsRefused)])
def test_edition_and_non_tls_refusals_are_recognised(preset, error):
    with Simulator(preset) as sim:
        with pytest.raises(error):
            run_for(sim).connection_api.version()


def test_unreachable_server_is_a_clear_error_not_a_traceback():
    with Simulator("plain-http") as sim:
        env = {k: v for k, v in sim.env().items() if k not in ("RIVA_TARGETS_FILE", "READINESS_SERVER_FACTS")}  # gone with it
    run = ReadinessRun(load_settings({**env, "READINESS_ENV_FILE": "none", "CRM_TIMEOUT": "2"}))
    with pytest.raises(CrmUnreachable, match=r"cannot connect to http://127\.0\.0\.1:\d+: .*[Rr]efused"):
        run.connection_api.version()


def reply(status: int, body: bytes, content_type: str = "application/json") -> requests.Response:
    response = requests.Response()
    response.status_code = status
    response._content = body
    response.headers["Content-Type"] = content_type
    response.request = requests.Request("GET", "http://crm/api.php/data/Meeting").prepare()
    return response


def test_html_error_page_is_an_unexpected_reply_with_an_excerpt():
    with pytest.raises(UnexpectedReply, match=r"HTTP 502 \(text/html\) for data/Meeting: '<html><title>Bad Gateway"):
        parse_reply(reply(502, b"<html><title>Bad Gateway</title></html>", "text/html"), "data/Meeting")


def test_access_denied_hint_is_parsed():
    with pytest.raises(AccessDenied) as denied:
        parse_reply(reply(403, b'{"message":"Access denied","hint":"[Meetings:delete]"}'), "data/Meeting/1")
    assert (denied.value.module, denied.value.action) == ("Meetings", "delete")


def test_server_errors_after_retries():
    with pytest.raises(ServerError, match="server error HTTP 500"):
        parse_reply(reply(500, b'{"message":"boom"}'), "data/Meeting")


def test_retry_policy_never_repeats_writes_and_caps_retry_after():
    policy = BoundedRetry(total=3, allowed_methods=frozenset({"GET"}), respect_retry_after_header=True)
    assert policy.is_retry("GET", 503, has_retry_after=True)
    assert not policy.is_retry("POST", 503, has_retry_after=True)
    assert policy.get_retry_after(HTTPResponse(headers={"Retry-After": "3600"})) == BoundedRetry.MAX_RETRY_AFTER
    assert policy.get_retry_after(HTTPResponse(headers={"Retry-After": "2"})) == 2
