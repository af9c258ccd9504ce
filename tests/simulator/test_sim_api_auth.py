"""REST API: version, OAuth password/refresh grants, Bearer and Basic authentication, /me."""

import base64
import json

import pytest

from crm_simulator import CONNECTION_USER, OAUTH_CLIENT_ID, Simulator

TOKEN = "/api.php/auth/user/access_token"


def _jwt_payload(token: str) -> dict:
    payload = token.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))


def _basic(user: str, password: str) -> dict:
    raw = base64.b64encode(f"{user}:{password}".encode()).decode()
    return {"Authorization": f"Basic {raw}"}


# ----- version ------------------------------------------------------------------------------


def test_version_needs_no_authentication(client):
    reply = client.get("/api.php/version")
    assert reply.status_code == 200
    assert reply.headers["Content-Type"].startswith("application/json")
    assert reply.json() == {"version": "8.7.7", "authenticated": False, "products": ["enterprise"]}


def test_version_says_authenticated_with_a_valid_token(client, admin_token):
    assert client.get("/api.php/version", token=admin_token).json()["authenticated"] is True
    assert client.get("/api.php/version", token="not-a-token").json()["authenticated"] is False


# ----- password grant -------------------------------------------------------------------------


def test_password_grant_returns_a_bearer_token(client, healthy):
    reply = client.grant()
    assert reply.status_code == 200
    body = reply.json()
    assert set(body) == {"token_type", "expires_in", "access_token", "refresh_token"}
    assert body["token_type"] == "Bearer"
    assert body["expires_in"] == 86399
    payload = _jwt_payload(body["access_token"])
    assert payload["sub"] == f"Users:{client.user_id(CONNECTION_USER)}"
    assert payload["scopes"] == ["read", "write", "profile"]
    assert body["refresh_token"] and "." not in body["refresh_token"]
    # tokens are random: a second sign-in gets different ones
    assert client.grant().json()["access_token"] != body["access_token"]


def test_bad_password_is_invalid_grant(client):
    reply = client.grant(password="wrong")
    assert reply.status_code == 400
    assert reply.json() == {"message": "The user credentials were incorrect.", "error": "invalid_grant"}


def test_unknown_user_is_invalid_grant(client):
    reply = client.grant("nobody-zq81", password="whatever")
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_grant"


def test_inactive_user_cannot_sign_in(client):
    # dana.dormant is an inactive seed user; whatever her password, the grant fails
    reply = client.grant("dana.dormant", password="irrelevant")
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_grant"


def test_older_oauth_servers_answer_a_wrong_password_with_invalid_credentials(client_for):
    with Simulator("old-oauth-errors", tls=False) as sim:
        reply = client_for(sim).grant(password="wrong")
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_credentials"


def test_a_password_grant_not_enabled_for_the_client_is_unauthorized_client(client_for):
    with Simulator("password-grant-disabled", tls=False) as sim:
        c = client_for(sim)
        reply = c.grant()
        assert reply.status_code == 400 and reply.json()["error"] == "unauthorized_client"
        assert c.grant(client_secret="wrong").json()["error"] == "invalid_client"  # the client is checked first


@pytest.mark.parametrize("overrides", [{"client_secret": "wrong"}, {"client_id": "other-client"}])
def test_bad_client_is_invalid_client(client, overrides):
    reply = client.grant(**overrides)
    assert reply.status_code == 401
    assert reply.json()["error"] == "invalid_client"


def test_form_encoded_body_is_invalid_request(client, healthy):
    reply = client.post(
        TOKEN,
        data={
            "grant_type": "password",
            "client_id": healthy.client_id,
            "client_secret": healthy.client_secret,
            "username": CONNECTION_USER,
            "password": healthy.password,
        },
    )
    assert reply.status_code == 400
    assert reply.json()["error"] == "invalid_request"


def test_missing_parameter_and_unknown_grant_type(client, healthy):
    reply = client.grant(username="")
    assert reply.status_code == 400 and reply.json()["error"] == "invalid_request"
    assert "username" in reply.json()["hint"]
    reply = client.post(TOKEN, json={"grant_type": "client_credentials", "client_id": healthy.client_id})
    assert reply.status_code == 400 and reply.json()["error"] == "unsupported_grant_type"


def test_refresh_grant_issues_new_tokens_once(client, healthy):
    first = client.grant().json()
    body = {
        "grant_type": "refresh_token",
        "client_id": healthy.client_id,
        "client_secret": healthy.client_secret,
        "refresh_token": first["refresh_token"],
    }
    reply = client.post(TOKEN, json=body)
    assert reply.status_code == 200
    second = reply.json()
    assert second["token_type"] == "Bearer"
    assert second["access_token"] != first["access_token"]
    assert client.get("/api.php/me", token=second["access_token"]).status_code == 200
    # refresh tokens are single-use
    again = client.post(TOKEN, json=body)
    assert again.status_code == 400 and again.json()["error"] == "invalid_request"
    # and bound to the client that got them
    body["refresh_token"], body["client_secret"] = second["refresh_token"], "wrong"
    assert client.post(TOKEN, json=body).json()["error"] == "invalid_client"


# ----- using the token --------------------------------------------------------------------------


def test_me_describes_the_signed_in_user(client, admin_token):
    reply = client.get("/api.php/me", token=admin_token)
    assert reply.status_code == 200
    assert reply.json() == {
        "id": f"Users:{client.user_id(CONNECTION_USER)}",
        "name": "Riva Service",
        "first_name": "Riva",
        "last_name": "Service",
        "role": "user",
        "groups": [],
        "email": "riva_svc@example.com",
    }


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer not-a-token"}, {"Authorization": "Bearer"}])
def test_missing_or_bad_token_is_access_denied(client, headers):
    reply = client.get("/api.php/me", headers=headers)
    assert reply.status_code == 401
    assert reply.json()["error"] == "access_denied"


def test_expired_token_is_refused_and_refresh_still_works(client_for):
    with Simulator("plain-http") as sim:
        c = client_for(sim)
        tokens = c.grant().json()
        sim.expire_tokens()
        reply = c.get("/api.php/me", token=tokens["access_token"])
        assert reply.status_code == 401 and reply.json()["error"] == "access_denied"
        refreshed = c.post(
            TOKEN,
            json={
                "grant_type": "refresh_token",
                "client_id": sim.client_id,
                "client_secret": sim.client_secret,
                "refresh_token": tokens["refresh_token"],
            },
        )
        assert refreshed.status_code == 200
        assert c.get("/api.php/me", token=refreshed.json()["access_token"]).status_code == 200


def test_basic_auth_is_disabled_on_healthy(client, healthy):
    reply = client.get("/api.php/me", headers=_basic(CONNECTION_USER, healthy.password))
    assert reply.status_code == 401
    assert reply.json() == {"error": "access_denied", "message": "Basic authentication is disabled"}


def test_distinctive_secrets_are_used_and_reported(client_for):
    with Simulator("plain-http", password="Pw-7f3a9c", client_secret="Cs-42e1b0") as sim:
        env = sim.env()
        assert env["CRM_PASSWORD"] == "Pw-7f3a9c" and env["CRM_CLIENT_SECRET"] == "Cs-42e1b0"
        assert env["CRM_CLIENT_ID"] == OAUTH_CLIENT_ID
        c = client_for(sim)
        assert c.grant(password="Pw-7f3a9c").status_code == 200
        assert c.grant(password="Sim-Riva-Pass-1").status_code == 400
        assert c.grant(client_secret="sim-client-secret").json()["error"] == "invalid_client"


# ----- presets without an OAuth client ---------------------------------------------------------------


@pytest.fixture(scope="module")
def basic_sim():
    with Simulator("basic-auth", tls=False) as sim:
        yield sim


def test_basic_auth_preset_accepts_basic_and_has_no_client(basic_sim, client_for):
    env = basic_sim.env()
    assert "CRM_CLIENT_ID" not in env and "CRM_CLIENT_SECRET" not in env
    c = client_for(basic_sim)
    reply = c.get("/api.php/me", headers=_basic(CONNECTION_USER, basic_sim.password))
    assert reply.status_code == 200 and reply.json()["name"] == "Riva Service"
    assert c.get("/api.php/version", headers=_basic(CONNECTION_USER, basic_sim.password)).json()["authenticated"]
    reply = c.get("/api.php/me", headers=_basic(CONNECTION_USER, "wrong"))
    assert reply.status_code == 401 and reply.json()["error"] == "access_denied"
    reply = c.post(TOKEN, json={"grant_type": "password", "client_id": OAUTH_CLIENT_ID, "client_secret": "x",
                                "username": CONNECTION_USER, "password": basic_sim.password})
    assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"


def test_basic_disabled_preset_refuses_every_sign_in(client_for):
    with Simulator("basic-disabled", tls=False) as sim:
        c = client_for(sim)
        assert "CRM_CLIENT_ID" not in sim.env()
        reply = c.post(TOKEN, json={"grant_type": "password", "client_id": OAUTH_CLIENT_ID,
                                    "client_secret": "sim-client-secret", "username": CONNECTION_USER,
                                    "password": sim.password})
        assert reply.status_code == 401 and reply.json()["error"] == "invalid_client"
        reply = c.get("/api.php/me", headers=_basic(CONNECTION_USER, sim.password))
        assert reply.status_code == 401 and reply.json()["message"] == "Basic authentication is disabled"
