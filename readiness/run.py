"""One readiness run: its settings, id, redactor, evidence log and connections to the CRM."""

from __future__ import annotations

import secrets
import threading
from datetime import UTC, datetime
from functools import cached_property
from typing import NamedTuple

from faker import Faker

from .client import CrmApi
from .config import Credentials, Secret, Settings
from .connection_user import Account, read_account
from .fields_meta import FieldsMeta, read_fields_meta
from .ledger import Ledger
from .probes import Prober, ProbeResult, sign_in_problem
from .roles import RoleBook, read_rights
from .targets import Target
from .users import CrmUser, Directory, load_directory
from .http import CrmSession, ExchangeLog
from .redaction import Redactor
from .rest_api import RestApi
from .rest_api import detect as detect_rest_api
from .server_info import ServerInfo, detect


class MatchedTarget(NamedTuple):
    target: Target
    user: CrmUser  # the one active CRM user with the target's address as primary e-mail


class ProbeRun(NamedTuple):
    problem: str | None  # why the probe user could not sign in; then no results
    results: list[ProbeResult]


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
        self._probes: dict[str, ProbeRun] = {}
        self._faker = Faker()
        self._fields_meta: dict[str, FieldsMeta] = {}
        self._fields_meta_lock = threading.Lock()

    def __repr__(self) -> str:
        return f"ReadinessRun({self.run_id})"  # reports may record it: nothing of the settings

    def session(self) -> CrmSession:
        """A fresh session (own cookies), with every policy of the suite applied."""
        session = CrmSession.for_settings(self.settings, self.log)
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
    def rest_api(self) -> RestApi:
        """Whether this server has the REST API at all (detected once per process, without signing in)."""
        return detect_rest_api(CrmApi(self.session(), self.settings.crm.base))

    @cached_property
    def server(self) -> ServerInfo:
        return detect(self.settings.crm, self.connection_api, self.session(), self.settings.connection_user)

    # -- Steps 3 and 4: each listing happens once per process, whatever number of scenarios use it --

    @cached_property
    def account(self) -> Account:
        return read_account(self.connection_api)

    @cached_property
    def directory(self) -> Directory:
        return load_directory(self.connection_api)

    @cached_property
    def roles(self) -> RoleBook:
        return read_rights(self.connection_api)

    @cached_property
    def ledger(self) -> Ledger:
        return Ledger(lambda: self.connection_api, meta=lambda api, model: self.fields_meta(model, api))

    def fields_meta(self, model: str, api: CrmApi | None = None) -> FieldsMeta:
        """A model's field metadata, read once a run (as `api`, else the connection user) and shared by every
        probe user, the cleanup and the sweep."""
        with self._fields_meta_lock:
            if model not in self._fields_meta:
                self._fields_meta[model] = read_fields_meta(api or self.connection_api, model)
            return self._fields_meta[model]

    def matched_targets(self) -> list[MatchedTarget]:
        """Targets that match a CRM user Riva could act as (the others fail R4.2)."""
        pairs = []
        for target in self.settings.targets:
            match = self.directory.match(target.email)
            if match.user is not None and match.user.usable:
                pairs.append(MatchedTarget(target, match.user))
        return pairs

    def probe(self, target: Target, user: CrmUser) -> ProbeRun:
        """Signs in as the probe user and probes every datatype, once per process (R4.4 and R4.5 share it)."""
        if target.email not in self._probes:
            password = self.settings.probe_password(target.password_env)
            api = self.api_as(Credentials(user.user_name, Secret(password)))
            problem = sign_in_problem(api, target.password_env)
            prober = Prober(api, self.ledger, self.run_id, self._faker, lambda model: self.fields_meta(model, api))
            results = [] if problem else [prober.probe(model) for model in self.settings.datatypes]
            self._probes[target.email] = ProbeRun(problem, results)
        return self._probes[target.email]

    def close(self) -> list[str]:
        """Undoes whatever probes left behind; returns what could not be removed."""
        problems = self.ledger.undo() if "ledger" in self.__dict__ else []
        for session in self._sessions:
            session.close()
        return problems
