"""Wrong-but-valid replies never end a check in a stack trace or a false pass.

The healthy simulator answers; one kind of endpoint at a time has its reply replaced, at the requests
level, by a reply of the wrong shape (missing keys, null, an empty list, HTML, a list instead of an
object, numbers instead of strings, null values, an unexpected status). Every check's domain function
runs against it: each ends in an outcome or a ReadinessError (a finding), never in another exception,
and the checks that rely on that endpoint do not pass. A wrong-shaped list ends Steps 3 and 4 in outcomes."""

from __future__ import annotations

import json
from urllib.parse import urlsplit

import pytest

from crm_simulator import Simulator
from readiness import access, connection_user, load, server_info, target_users
from readiness.config import load_settings
from readiness.errors import ReadinessError
from readiness.http import CrmAdapter
from readiness.run import ReadinessRun

API_CHECKS = {"R1.5", "R2.2", "R3.1", "R3.2", "R3.3", "R3.4", "R3.5", "R4.2", "R4.3", "R4.4", "R4.5"}
# endpoint -> (the checks whose requests reach it, those of them that cannot be verified without it). The
# others may pass on what still works: /me proves the API (R1.5) and the About page tells the version (R2.1);
# OAuth refuses the non-existent user (R1.6) before it asks /me.
ENDPOINTS = {
    "version": ({"R1.5", "R2.1"}, set()),
    "token": (API_CHECKS | {"R1.6"}, API_CHECKS | {"R1.6"}),
    "me": (API_CHECKS - {"R3.3", "R4.2", "R4.3"} | {"R1.6"},
           {"R1.5", "R2.2", "R3.1", "R3.2", "R3.4", "R3.5", "R4.4", "R4.5"}),
    "list": ({"R2.2", "R3.3", "R3.4", "R4.2", "R4.3", "R4.4", "R4.5"},) * 2,
    "read": ({"R3.1", "R3.2", "R3.4", "R3.5", "R4.4", "R4.5"},) * 2,
    "create": ({"R4.4", "R4.5"},) * 2,
    "fields": ({"R3.5"},) * 2,
    "web login": ({"R1.4", "R1.6"}, {"R1.4"}),
}
# Checks that rightly pass on a shape that leaves what they judge intact: R3.5 reads only the field names of
# /meta/fields; R2.2 measures how lists are served, not their values; R4.4 that CRUD works (R4.5 reads values).
# R1.6 is decided by the web login's refusal; a token endpoint that refuses with an odd status or redirects is
# noted in its message (and fails R1.5), since it did not look at the user name.
SOUND = {("fields", "numbers instead of strings"): {"R3.5"}, ("list", "numbers instead of strings"): {"R2.2"},
         ("read", "numbers instead of strings"): {"R4.4"}, ("token", "HTTP 418"): {"R1.6"},
         ("token", "HTTP 302"): {"R1.6"}}


def _strings_to_numbers(value):
    if isinstance(value, str):
        return 7
    if isinstance(value, list):
        return [_strings_to_numbers(v) for v in value]
    if isinstance(value, dict):
        return {k: _strings_to_numbers(v) for k, v in value.items()}
    return value


SHAPES = {
    "missing keys": lambda body: (200, {}),
    "null": lambda body: (200, None),
    "empty list": lambda body: (200, []),
    "html": lambda body: (200, "<html><body><b>Fatal error</b>: Allowed memory size exhausted</body></html>"),
    "a list instead of an object": lambda body: (200, [body]),
    "numbers instead of strings": lambda body: (200, _strings_to_numbers(body)),
    "null values": lambda body: (200, {k: None for k in body} if isinstance(body, dict) else None),
    "empty records": lambda body: (200, {**body, "records": []} if isinstance(body, dict) else {"records": []}),
    "HTTP 418": lambda body: (418, {"message": "I'm a teapot"}),
    "HTTP 302": lambda body: (302, ""),
}
# On a user listing of the wrong shape, Steps 3 and 4 say a clear failed or not verifiable, never an error
# (1crm-api.md's fail-safe rule); an unexpected status (HTTP 418) may still end them in one.
NO_ERROR = {("list", shape): {"R3.3", "R3.4", "R4.2", "R4.3", "R4.4", "R4.5"}
            for shape in SHAPES if shape != "HTTP 418"}


def endpoint_of(request, body) -> str | None:
    path = urlsplit(request.url).path
    if path.endswith("/json.php"):
        return "web login"
    if "/api.php/" not in path:
        return None
    api = path.split("/api.php/", 1)[1]
    if api in ("version", "me"):
        return api
    if api == "auth/user/access_token":
        return "token"
    if api.startswith("meta/fields/"):
        return "fields"
    if api.startswith("data/") and request.method == "POST":
        return "create"
    if isinstance(body, dict) and "records" in body:
        return "list"
    if isinstance(body, dict) and "record" in body:
        return "read"
    return None


@pytest.fixture(scope="module")
def simulator():
    with Simulator("healthy") as sim:
        yield sim


def mutate(monkeypatch, endpoint: str, shape: str) -> None:
    send = CrmAdapter.send

    def mutated(self, request, **kwargs):
        response = send(self, request, **kwargs)
        try:
            body = json.loads(response.content)
        except ValueError:
            body = None
        if endpoint_of(request, body) != endpoint:
            return response
        status, replacement = SHAPES[shape](body)
        response.status_code = status
        if isinstance(replacement, str):
            response._content, response.headers["Content-Type"] = replacement.encode(), "text/html"
        else:
            response._content, response.headers["Content-Type"] = json.dumps(replacement).encode(), "application/json"
        if status == 302:
            response.headers["Location"] = f"{request.url.split('/api.php')[0].split('/json.php')[0]}/elsewhere"
        return response

    monkeypatch.setattr(CrmAdapter, "send", mutated)


def checks(run: ReadinessRun) -> dict:
    settings, crm, user = run.settings, run.settings.crm, run.settings.connection_user

    def probes():  # run once per process, as in the suite (R4.4 and R4.5 share them)
        if not hasattr(run, "_shape_probes"):
            run._shape_probes = target_users.run_probes(run, target_users.probe_users(run))
        return run._shape_probes

    return {
        "R1.3": lambda: access.login_page(crm, run.session()),
        "R1.4": lambda: access.web_sign_in(crm, run.session(), user),
        "R1.5": lambda: access.api_sign_in(run.api_as(user)),
        "R1.6": lambda: access.unknown_user_refused(crm, run.session(), run.api_as),
        "R2.1": lambda: server_info.judge(run.server),
        "R3.1": lambda: connection_user.active_ordinary_user(run.account),
        "R3.2": lambda: connection_user.administrator(run.account),
        "R3.3": lambda: connection_user.sees_users(lambda: run.directory),
        "R3.4": lambda: connection_user.dedicated(run.account, run.directory, settings.targets),
        "R3.5": lambda: connection_user.password_expiry(run.connection_api, run.fields_meta("User"), run.account),
        "R4.2": lambda: target_users.matches(run.settings.targets, lambda: run.directory),
        "R4.3": lambda: target_users.role_rights(run),
        "R4.4": lambda: target_users.crud(probes()),
        "R4.5": lambda: target_users.ownership(probes()),
        "R2.2": lambda: load.judge(load.probe(settings, user, run.redactor)),
    }


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_a_reply_of_the_wrong_shape_is_a_finding_never_a_stack_trace_or_a_pass(simulator, monkeypatch, endpoint, shape):
    if shape == "empty records" and endpoint != "list":
        pytest.skip("only a list has records")
    env = {**simulator.env(), "READINESS_ENV_FILE": "none", "READINESS_LOAD_SECONDS": "0.5",
           "READINESS_LOAD_MAX_REQUESTS": "20", "RIVA_THREADS": "1", "RIVA_DATATYPES": "Contact,Meeting"}
    run = ReadinessRun(load_settings(env))
    mutate(monkeypatch, endpoint, shape)
    passed, defects = [], []
    try:
        reach, rely_on = ENDPOINTS[endpoint]
        for check, evaluate in checks(run).items():
            if check not in reach:
                continue
            try:
                result = evaluate()
            except ReadinessError as exc:
                if check in NO_ERROR.get((endpoint, shape), ()):
                    defects.append(f"{check}: an error, not a finding: {exc}")
                continue  # a finding with the error's message
            except Exception as exc:  # noqa: BLE001 - what the test is about
                defects.append(f"{check}: {type(exc).__name__}: {exc}")
                continue
            outcomes = result if isinstance(result, list) else [result]
            if outcomes and all(o.passed for o in outcomes):
                passed.append(check)
    finally:
        try:
            run.close()
        except ReadinessError:
            pass  # leftovers of a broken read are the sweep's; the simulator is this module's only
    assert defects == []
    assert sorted(set(passed) & (rely_on - SOUND.get((endpoint, shape), set()))) == []
