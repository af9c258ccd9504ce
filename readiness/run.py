"""One readiness run: its settings, id, redactor, evidence log and connections to the CRM."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from functools import cached_property

from faker import Faker

from .client import CrmApi
from .config import Credentials, Secret, Settings
from .connection_user import Account, read_account
from .ledger import Ledger
from .probes import ProbeResult, probe, sign_in_problem
from .roles import Role, read_roles
from .targets import Target
from .users import CrmUser, Directory, list_users
from .http import CrmSession, ExchangeLog
from .redaction import Redactor
from .server_info import ServerInfo, detect


def new_run_id() -> str:
    """Sortable and unique: probe records carry it, so leftovers can be traced to their run."""
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def redactor_for(settings: Settings) -> Redactor:
    """The run's one masking policy, knowing every configured secret (see redaction.py)."""
    redactor = Redactor(*settings.secrets)
    if settings.username and settings.password:
        redactor.add_basic_credentials(settings.username, settings.password.reveal())
    return redactor


class ReadinessRun:
    def __init__(self, settings: Settings, run_id: str | None = None, redactor: Redactor | None = None):
        self.settings = settings
        self.run_id = run_id or new_run_id()
        self.redactor = redactor or redactor_for(settings)  # the plugin passes the run's one redactor
        self.log = ExchangeLog(self.redactor)
        self._sessions: list[CrmSession] = []
        self._probes: dict[str, tuple[str | None, list[ProbeResult]]] = {}
        self._faker = Faker()

    def __repr__(self) -> str:
        return f"ReadinessRun({self.run_id})"  # reports may record it: nothing of the settings

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

    # -- Steps 3 and 4: each listing happens once per process, whatever number of scenarios use it --

    @cached_property
    def account(self) -> Account:
        return read_account(self.connection_api)

    @cached_property
    def directory(self) -> Directory:
        return Directory(list_users(self.connection_api))

    @cached_property
    def roles(self) -> list[Role]:
        return read_roles(self.connection_api)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(lambda: self.connection_api)

    def matched_targets(self) -> list[tuple[Target, CrmUser]]:
        """Targets that match a CRM user Riva could act as (the others fail R4.2)."""
        pairs = []
        for target in self.settings.targets:
            match = self.directory.match(target.email)
            if match.user is not None and match.user.kind_problem is None:
                pairs.append((target, match.user))
        return pairs

    def probe(self, target: Target, user: CrmUser) -> tuple[str | None, list[ProbeResult]]:
        """Signs in as the probe user and probes every datatype, once per process (R4.4 and R4.5 share it)."""
        if target.email not in self._probes:
            password = self.settings.probe_password(target.password_env)
            api = self.api_as(Credentials(user.user_name, Secret(password)))
            problem = sign_in_problem(api, target.password_env)
            results = [] if problem else [probe(api, self.ledger, model, self.run_id, self._faker)
                                          for model in self.settings.datatypes]
            self._probes[target.email] = (problem, results)
        return self._probes[target.email]

    def close(self) -> list[str]:
        """Undoes whatever probes left behind; returns what could not be removed."""
        problems = self.ledger.undo() if "ledger" in self.__dict__ else []
        for session in self._sessions:
            session.close()
        return problems
