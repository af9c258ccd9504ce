"""One readiness run: its settings, id, redactor, evidence log and connections to the CRM."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from functools import cached_property

from .client import CrmApi
from .config import Credentials, Settings
from .http import CrmSession, ExchangeLog
from .redaction import Redactor
from .server_info import ServerInfo, detect


def new_run_id() -> str:
    """Sortable and unique: probe records carry it, so leftovers can be traced to their run."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


class ReadinessRun:
    def __init__(self, settings: Settings, run_id: str | None = None):
        self.settings = settings
        self.run_id = run_id or new_run_id()
        self.redactor = Redactor()
        self.redactor.add(*settings.secrets)
        if settings.username and settings.password:
            self.redactor.add_basic_credentials(settings.username, settings.password.reveal())
        self.log = ExchangeLog(self.redactor)
        self._sessions: list[CrmSession] = []

    def session(self) -> CrmSession:
        """A fresh session (own cookies), with every policy of the suite applied."""
        s = self.settings
        session = CrmSession(timeout=s.timeout, verify=s.tls_verify, proxy=s.proxy, read_only=s.read_only, log=self.log)
        self._sessions.append(session)
        return session

    def api_as(self, user: Credentials) -> CrmApi:
        """The REST API signed in as this user, by the configured mechanism (there is no impersonation endpoint)."""
        password = user.password.reveal()
        self.redactor.add(password)
        self.redactor.add_basic_credentials(user.username, password)
        s = self.settings
        return CrmApi(self.session(), s.crm.base, username=user.username, password=password, client_id=s.client_id,
                      client_secret=s.client_secret.reveal() if s.client_secret else None)

    @cached_property
    def connection_api(self) -> CrmApi:
        """As the Riva connection user; without usable credentials only /version can answer."""
        user = self.settings.connection_user
        return self.api_as(user) if user else CrmApi(self.session(), self.settings.crm.base)

    @cached_property
    def server(self) -> ServerInfo:
        return detect(self.settings.crm, self.connection_api, self.session(), self.settings.connection_user)

    def close(self) -> None:
        for session in self._sessions:
            session.close()
