"""Shared helpers for the simulator's own tests.

Helpers are handed out through fixtures (not imported) so the tests work whatever import
mode the project's pytest configuration chooses.
"""

from __future__ import annotations

import pytest
import requests

from crm_simulator import CONNECTION_USER, KNOWN_PASSWORDS, Simulator


class Client:
    """A requests session pointed at one simulator.

    ``trust_env`` is off on purpose: otherwise REQUESTS_CA_BUNDLE / CURL_CA_BUNDLE from the
    environment silently replace ``session.verify`` and proxy variables could catch localhost.
    """

    def __init__(self, sim: Simulator):
        self.sim = sim
        self.http = requests.Session()
        self.http.trust_env = False
        self.http.verify = sim.ca_bundle or True

    def url(self, path: str) -> str:
        return self.sim.url + path

    def request(self, method: str, path: str, *, token: str | None = None, **kwargs) -> requests.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if token:
            headers["Authorization"] = f"Bearer {token}"
        kwargs.setdefault("timeout", 10)
        kwargs.setdefault("allow_redirects", False)
        return self.http.request(method, self.url(path), headers=headers, **kwargs)

    def get(self, path, **kw):
        return self.request("GET", path, **kw)

    def post(self, path, **kw):
        return self.request("POST", path, **kw)

    def patch(self, path, **kw):
        return self.request("PATCH", path, **kw)

    def delete(self, path, **kw):
        return self.request("DELETE", path, **kw)

    def password_of(self, user_name: str) -> str:
        return self.sim.password if user_name == CONNECTION_USER else KNOWN_PASSWORDS[user_name]

    def grant(self, user_name: str = CONNECTION_USER, password: str | None = None, **overrides) -> requests.Response:
        body = {
            "grant_type": "password",
            "client_id": self.sim.client_id,
            "client_secret": self.sim.client_secret,
            "username": user_name,
            "password": self.password_of(user_name) if password is None else password,
            "scope": "read write profile",
        }
        body.update(overrides)
        return self.post("/api.php/auth/user/access_token", json=body)

    def token(self, user_name: str = CONNECTION_USER, password: str | None = None) -> str:
        reply = self.grant(user_name, password)
        assert reply.status_code == 200, reply.text
        return reply.json()["access_token"]

    def user_id(self, user_name: str) -> str:
        return self.sim.store.user_by_name(user_name)["id"]

    def sample(self, model: str, owner: str = CONNECTION_USER, **fields) -> dict:
        """The smallest valid create of a model: its required fields, references to seeded records."""
        store = self.sim.store
        account = store.list(store.models["Account"], limit=1)[0][0]["id"]
        folder = store.list(store.models["EmailFolder"], owner_id=self.user_id(owner), limit=1)[0][0]["id"]
        required = {
            "Contact": {"last_name": "Probe"}, "Lead": {"last_name": "Probe"},
            "Meeting": {"date_start": "2030-01-01 10:00:00"}, "Call": {"date_start": "2030-01-01 10:00:00"},
            "Email": {"folder_ref": folder},
            "Opportunity": {"account": account, "amount": "1000", "date_closed": "2030-01-31"},
            "Project": {"account": account, "date_starting": "2030-01-01", "date_ending": "2030-02-01",
                        "project_phase": "Active - Starting Soon"},
        }
        return {**({} if model in ("Contact", "Lead") else {"name": "Probe"}), **required.get(model, {}), **fields}


@pytest.fixture(scope="session")
def client_for():
    """client_for(sim) -> Client."""
    return Client


@pytest.fixture(scope="module")
def healthy():
    with Simulator("healthy") as sim:
        yield sim


@pytest.fixture(scope="module")
def client(healthy):
    return Client(healthy)


@pytest.fixture(scope="module")
def admin_token(client):
    return client.token()
