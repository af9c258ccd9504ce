"""1CRM's own PHP API client (tests/php/onecrm-api-client, MIT) gets every call answered as it expects.

The client and the simulator of this project were written from one contract; 1CRM's own client was
not. Where the two disagree (its `fields[0]=` lists, its token reply, its error bodies), this test fails.
Needs PHP with curl and Debian's php-guzzlehttp-guzzle: skipped without them, and an error in CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from crm_simulator import CONNECTION_USER, Simulator

DRIVER = Path(__file__).resolve().parents[1] / "php" / "drive_simulator.php"
GUZZLE = Path("/usr/share/php/GuzzleHttp/autoload.php")


def _php() -> str:
    php = shutil.which("php")
    if php is None or not GUZZLE.exists():
        if os.environ.get("CI"):
            pytest.fail("CI must install php-cli, php-curl and php-guzzlehttp-guzzle")
        pytest.skip("PHP with Guzzle (Debian: php-cli php-curl php-guzzlehttp-guzzle) is not installed")
    return php


def drive(sim: Simulator, *, oauth: bool) -> dict:
    settings = {"api_url": f"{sim.url}/api.php", "username": CONNECTION_USER, "password": sim.password}
    if oauth:
        settings.update(client_id=sim.client_id, client_secret=sim.client_secret)
    trust = [f"-dcurl.cainfo={sim.ca_bundle}", f"-dopenssl.cafile={sim.ca_bundle}"] if sim.ca_bundle else []
    done = subprocess.run([_php(), *trust, str(DRIVER)], input=json.dumps(settings), capture_output=True, text=True,
                          timeout=60, env={"PATH": os.environ.get("PATH", "")})
    assert done.returncode == 0, done.stderr or done.stdout
    return json.loads(done.stdout)


def value(results: dict, call: str):
    result = results[call]
    assert result["ok"], f"{call}: {result}"
    return result["value"]


@pytest.fixture(scope="module")
def oauth_results():
    with Simulator("healthy") as sim:
        yield drive(sim, oauth=True)


def test_password_grant_and_refresh_answer_as_the_client_expects(oauth_results):
    assert {"access_token", "refresh_token", "expires_in", "token_type"} <= set(value(oauth_results, "token"))
    assert {"access_token", "refresh_token"} <= set(value(oauth_results, "refresh"))
    me = value(oauth_results, "me")
    assert me["id"].startswith("Users:") and me["role"] == "user"
    assert value(oauth_results, "version")["version"]


def test_lists_take_its_numbered_fields_and_page_through(oauth_results):
    listed = value(oauth_results, "list")
    assert listed["total"] > 5 and len(listed["records"]) == 5
    for record in listed["records"]:  # fields[0]=id&fields[1]=first_name...: exactly what was asked for
        assert set(record) >= {"id", "first_name", "last_name", "email1"}
    every = value(oauth_results, "every_contact")
    assert every["seen"] == every["distinct"] == every["total"]
    assert {"fields", "filters"} <= set(value(oauth_results, "metadata"))


def test_a_record_is_created_read_updated_audited_and_deleted(oauth_results):
    assert isinstance(value(oauth_results, "create"), str)
    assert value(oauth_results, "read")["last_name"] == "php-client-check"
    value(oauth_results, "update")
    assert value(oauth_results, "read_again")["first_name"] == "Changed"
    assert any(entry.get("field_name") == "first_name" for entry in value(oauth_results, "audit"))
    assert value(oauth_results, "delete") is True
    assert oauth_results["read_deleted"]["code"] == 404


def test_related_lists_and_errors_answer_as_the_client_expects(oauth_results):
    assert value(oauth_results, "roles")
    assert all("user_name" in user for user in value(oauth_results, "role_users"))
    unknown = oauth_results["unknown_model"]
    assert unknown["code"] == 404 and "Acount" in unknown["message"]  # {"message": "Model Acount not found"}


def test_http_basic_works_where_the_server_enables_it():
    with Simulator("basic-auth") as sim:
        results = drive(sim, oauth=False)
    assert value(results, "me")["id"].startswith("Users:")
    assert value(results, "list")["records"]
