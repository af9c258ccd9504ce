"""Named server states of the simulator: one declarative ``Preset`` per misconfiguration.

A preset is a bag of knobs read by the store (seed data), the TLS module (which certificate)
and the Flask app (which behaviour). ``healthy`` is the reference; every other preset is
``healthy`` with the few knobs changed that produce its one misconfiguration.
"""

from __future__ import annotations

import argparse
import difflib
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Mapping

# Certificate kinds understood by crm_simulator.tls.
CERT_VALID = "valid"
CERT_UNTRUSTED = "untrusted"  # issued by a CA other than the one handed out as the CA bundle
CERT_WRONG_HOST = "wrong-host"  # valid only for crm.example.com
CERT_EXPIRED = "expired"
CERT_EXPIRING = "expiring"  # valid, but expires in 10 days

# Pages that can stall (start loading, then hang): the login page, or the home page after sign-in.
STALL_LOGIN = "login"
STALL_HOME = "home"
STALL_SECONDS = 30.0  # bounded; a stopping simulator releases a stalled page at once

# What answers at login.php.
LOGIN_1CRM = "1crm"
LOGIN_MISSING = "missing"  # 404
LOGIN_NOT_1CRM = "not-1crm"  # a generic web server page


def _frozen(mapping: Mapping[str, Mapping]) -> Mapping[str, Mapping]:
    return MappingProxyType({k: MappingProxyType(dict(v)) for k, v in mapping.items()})


@dataclass(frozen=True)
class Preset:
    name: str
    description: str
    # --- transport -------------------------------------------------------------------------
    tls: bool = True  # default scheme; Simulator(tls=...) can force either
    cert: str = CERT_VALID
    # --- product -------------------------------------------------------------------------------
    version: str = "8.7.7"
    edition: str = "enterprise"  # "startup" editions have no REST API
    version_hidden: bool = False  # /api.php/version 404 and an About page without a version
    product: str = "1CRM"  # the name on the About page and in the titles (info@hand before 1CRM)
    api_php: bool = True  # False: no /api.php at all (info@hand before 8): the web server's 404 page
    # --- API authentication --------------------------------------------------------------------
    oauth_client: bool = True  # a private API client (password grant) is registered
    basic_auth: bool = False  # 1CRM's default: HTTP Basic disabled
    allow_non_tls_api: bool = True  # the admin setting that lets plain-http API calls through
    token_lifetime: int = 86399  # seconds, as in 1CRM's documented reply
    accepts_any_login: bool = False  # broken authentication: any user name/password signs in
    # [assumed] how the token endpoint refuses a wrong password: 400 invalid_grant (current PHP OAuth 2 servers)
    # or 401 invalid_credentials (older ones), 1crm-api.md section 2
    wrong_password_error: str = "invalid_grant"
    password_grant: bool = True  # False: the password grant is not enabled for the API client
    # --- web login -----------------------------------------------------------------------------
    login_page: str = LOGIN_1CRM
    human_check: bool = False
    session_lost: bool = False  # sign-in succeeds, but the session never sticks
    csrf_cookie: bool = False  # the login page sets a CSRF cookie; json.php checks the header when one is sent
    language: str = "en"  # "de": the pages and messages in German
    # --- Steps 3 and 4: the targets file env() writes, and the users' rights --------------------
    targets: tuple[str, ...] = ("alice.archer@example.com", "bob.baker@example.com")
    probe_users: tuple[str, ...] = ("alice.archer@example.com", "bob.baker@example.com")  # env() hands out passwords
    wrong_probe_passwords: tuple[str, ...] = ()  # probe users whose handed-out password is wrong
    role_overrides: Mapping[str, Mapping[str, Mapping[str, int]]] = field(default_factory=lambda: _frozen({}))
    roles_readable: bool = True  # False: ACLRole is not exposed through the API (404)
    role_actions_empty: bool = False  # True: a role's actions path answers an empty list (rights unreadable)
    group_users_exposed: bool = False  # True: User.is_group is served (info@hand's User has no such field)
    user_fields_hidden: tuple[str, ...] = ()  # User fields the server neither serves nor lists in /meta/fields
    connection_user_lists_users: bool = True  # False: listing User is denied to the connection user
    password_expires_in_days: int | None = None  # [assumed] User.password_expires of the connection user
    write_delay: float = 0.0  # seconds each data write takes (lets tests interrupt a run mid-probe)
    # (model, field, advertised): a customisation's required text field without default; advertised=False:
    # enforced on create, but /meta/fields does not list it
    required_fields: tuple[tuple[str, str, bool], ...] = ()
    email_folders: bool = True  # False: no user has an e-mail folder the API lists (Email's folder_ref cannot be set)
    # --- scale ----------------------------------------------------------------------------------
    faker_users: int = 24  # users beyond the fixed ones
    extra_full_roles: int = 0  # roles "Team 01".. with every right; faker users are spread over them
    bulk_targets: int = 0  # this many faker users' mailboxes are appended to the targets
    stall_page: str | None = None  # STALL_LOGIN or STALL_HOME: that page sends its first bytes, then hangs
    # --- seed data -----------------------------------------------------------------------------
    seed: int = 20240601  # Faker / id seed: same preset, same data
    # user_name -> field overrides applied after seeding, e.g. {"riva_svc": {"status": "Inactive"}}
    user_overrides: Mapping[str, Mapping[str, str]] = field(default_factory=lambda: _frozen({}))
    # --- capacity, like an Apache with a fixed MaxRequestWorkers (crm_simulator/capacity.py) ----
    max_request_workers: int = 150  # requests served at once; more wait for a free worker
    queue_wait: float = 5.0  # seconds a request waits for a worker before it is refused with 503
    service_ms: int = 0  # how long each request holds its worker
    cpu_cores: int = 0  # > 0: service times stretch when more requests than cores are served at once
    # --- the CRM host's facts that env() writes for R2.3 (tools/collect-server-facts.sh's format) --
    ram_mb: int = 16384  # room for max_request_workers Apache children of worker_rss_mb each, and the reserve
    worker_rss_mb: float = 40.0

    @property
    def api_available(self) -> bool:
        """Only Pro and Enterprise editions have the REST API (1crm-api.md §1)."""
        return self.edition.lower() != "startup"

    @property
    def products(self) -> list[str]:
        return [self.edition.lower()]

    @property
    def edition_label(self) -> str:
        return f"{self.edition.capitalize()} Edition"

    def words(self, key: str) -> str:
        """A label or message of the web pages, in the preset's language, with the product's name."""
        return WORDS[self.language][key].format(product=self.product)


# [source] the English labels of 1CRM's login window and home page; the German ones as a translation would have them.
WORDS = {
    "en": {"login_title": "{product}: Login", "home_title": "{product}: Home Dashboard", "home": "Home Dashboard",
           "about_title": "{product}: About", "refused": "You must specify a valid username and password."},
    "de": {"login_title": "{product}: Anmeldung", "home_title": "{product}: Startseite", "home": "Startseite",
           "about_title": "{product}: Über", "refused": "Sie müssen einen gültigen Benutzernamen und ein Passwort angeben."},
}


HEALTHY = Preset(
    name="healthy",
    description="A 1CRM Enterprise 8.7.7 server ready for Riva: valid TLS, OAuth client registered, users and roles in order.",
)


def _variant(name: str, description: str, **changes) -> Preset:
    if "user_overrides" in changes:
        changes["user_overrides"] = _frozen(changes["user_overrides"])
    if "role_overrides" in changes:
        changes["role_overrides"] = MappingProxyType({r: _frozen(m) for r, m in changes["role_overrides"].items()})
    return replace(HEALTHY, name=name, description=description, **changes)


_ALL = [
    HEALTHY,
    _variant(
        "basic-auth",
        "No OAuth client registered, HTTP Basic enabled: the API accepts user name and password only.",
        oauth_client=False,
        basic_auth=True,
    ),
    _variant(
        "basic-disabled",
        "No OAuth client registered and HTTP Basic disabled (the 1CRM default): every API sign-in fails.",
        oauth_client=False,
        basic_auth=False,
    ),
    _variant(
        "startup-edition",
        "1CRM Startup edition: the REST API does not exist, every API call answers 403.",
        edition="startup",
    ),
    _variant(
        "infoathand-7",
        "An on-premise info@hand 7.1.3, before the REST API: no /api.php at all (404); the About page says "
        "'info@hand Version 7.1.3'.",
        version="7.1.3",
        product="info@hand",
        api_php=False,
    ),
    _variant(
        "non-tls-refused",
        "Served over plain http while 1CRM rejects non-TLS API calls (the default): every API call answers 403.",
        tls=False,
        allow_non_tls_api=False,
    ),
    _variant(
        "plain-http",
        "Served over plain http with non-TLS API calls allowed: works, but credentials travel in clear text.",
        tls=False,
        allow_non_tls_api=True,
    ),
    _variant(
        "untrusted-cert",
        "HTTPS certificate issued by an unknown CA: verification fails (unable to get local issuer certificate).",
        cert=CERT_UNTRUSTED,
    ),
    _variant(
        "wrong-host-cert",
        "HTTPS certificate valid only for crm.example.com: host name mismatch.",
        cert=CERT_WRONG_HOST,
    ),
    _variant(
        "expired-cert",
        "HTTPS certificate expired yesterday.",
        cert=CERT_EXPIRED,
    ),
    _variant(
        "expiring-cert",
        "HTTPS certificate valid but expiring in 10 days.",
        cert=CERT_EXPIRING,
    ),
    _variant(
        "no-login-page",
        "The login page is missing (404 Not Found); the REST API still works.",
        login_page=LOGIN_MISSING,
    ),
    _variant(
        "not-1crm",
        "The address is a generic web server ('It works!'), not a 1CRM login window.",
        login_page=LOGIN_NOT_1CRM,
    ),
    _variant(
        "human-check",
        "The login page shows a human-check (CAPTCHA) widget that refuses every scripted sign-in.",
        human_check=True,
    ),
    _variant(
        "session-lost",
        "Web sign-in answers ok but the session is lost: the home page always redirects to the login page.",
        session_lost=True,
    ),
    _variant(
        "login-page-hangs",
        f"The login page starts loading, then hangs for {STALL_SECONDS:g} s (a stuck PHP worker or proxy).",
        stall_page=STALL_LOGIN,
    ),
    _variant(
        "home-page-hangs",
        f"Sign-in is accepted, but the home page starts loading, then hangs for {STALL_SECONDS:g} s.",
        stall_page=STALL_HOME,
    ),
    _variant(
        "accepts-any-login",
        "Broken authentication: any user name and password signs in (as a dummy user).",
        accepts_any_login=True,
    ),
    _variant(
        "version-hidden",
        "The version is hidden: /api.php/version answers 404 and the About page prints no version.",
        version_hidden=True,
    ),
    _variant(
        "old-version",
        "An on-premise info@hand 5.2.1: older than 5.3.3, the oldest release Riva supports on-premise.",
        version="5.2.1",
        product="info@hand",
    ),
    _variant(
        "unparseable-version",
        "/api.php/version and the About page show 'trunk-build' instead of a version number.",
        version="trunk-build",
    ),
    _variant(
        "undersized",
        "Only 2 request workers (MaxRequestWorkers 2): under Riva's load requests wait, then get 503 Service Unavailable.",
        max_request_workers=2,
        queue_wait=0.05,
        service_ms=100,
    ),
    _variant(
        "slow",
        "Ample workers but one CPU core and 100 ms per request: under Riva's load latency grows several-fold.",
        service_ms=100,
        cpu_cores=1,
    ),
    _variant(
        "connection-user-inactive",
        "The Riva connection user riva_svc is inactive.",
        user_overrides={"riva_svc": {"status": "Inactive"}},
    ),
    _variant(
        "connection-user-not-admin",
        "The Riva connection user riva_svc has no administrator rights.",
        user_overrides={"riva_svc": {"is_admin": "0"}},
    ),
    _variant(
        "connection-user-cannot-list-users",
        "The Riva connection user may not list CRM users, so it cannot find the target users.",
        connection_user_lists_users=False,
    ),
    _variant(
        "connection-user-is-target",
        "The Riva connection user's own mailbox is one of the targets: not a dedicated service account.",
        targets=HEALTHY.targets + ("riva_svc@example.com",),
    ),
    _variant(
        "connection-password-expiring",
        "The Riva connection user's password expires in 5 days.",
        password_expires_in_days=5,
    ),
    _variant(
        "target-without-user",
        "A target mailbox that no CRM user has as primary e-mail.",
        targets=HEALTHY.targets + ("nobody.here@example.com",),
    ),
    _variant(
        "target-secondary-email",
        "A target mailbox that only matches a CRM user's secondary e-mail (email2).",
        targets=HEALTHY.targets + ("g.green@example.org",),
    ),
    _variant(
        "target-shared-email",
        "A target mailbox that two CRM users share as primary e-mail.",
        targets=HEALTHY.targets + ("shared.mailbox@example.com",),
    ),
    _variant(
        "target-inactive",
        "A target mailbox whose CRM user is inactive.",
        targets=HEALTHY.targets + ("dana.dormant@example.com",),
    ),
    _variant(
        "target-group-user",
        "A target mailbox whose CRM user is a group user, on a server that exposes User.is_group.",
        targets=HEALTHY.targets + ("support.team@example.com",),
        group_users_exposed=True,
    ),
    _variant(
        "user-status-hidden",
        "The server's replies have no User.status: whether the connection user and the target users are Active "
        "cannot be verified (R3.1 and R4.2 unverified, not failed).",
        user_fields_hidden=("status",),
    ),
    _variant(
        "user-admin-flag-hidden",
        "The server's replies have no User.is_admin: whether the connection user is an administrator cannot be "
        "verified (R3.2 unverified).",
        user_fields_hidden=("is_admin",),
    ),
    _variant(
        "target-info-only",
        "A target mailbox whose CRM user is an Info Only user (cannot sign in).",
        targets=HEALTHY.targets + ("ivan.info@example.com",),
    ),
    _variant(
        "target-denied-through-team",
        "A target user with no role of her own whose team 'Contractors' gives her the role 'Read only'.",
        targets=HEALTHY.targets + ("tina.team@example.com",),
    ),
    _variant(
        "target-without-role",
        "A target user with neither a role nor a team: the Default Role decides, and it disables the Calls module.",
        targets=HEALTHY.targets + ("nora.norole@example.com",),
        role_overrides={"Default Role": {"Calls": {"access": -98}}},
    ),
    _variant(
        "target-portal-user",
        "A target mailbox whose CRM user is a portal-only user.",
        targets=HEALTHY.targets + ("paula.portal@example.com",),
    ),
    _variant(
        "target-case-difference",
        "A target mailbox whose CRM primary e-mail differs only in letter case.",
        targets=HEALTHY.targets + ("henry.hill@example.com",),
    ),
    _variant(
        "role-denies-meeting-delete",
        "The target users' role 'Sales' denies delete on Meetings ([Meetings:40] Access Denied in Riva).",
        role_overrides={"Sales": {"Meetings": {"delete": -99}}},
    ),
    _variant(
        "role-denies-lead-export",
        "The target users' role 'Sales' denies export on Leads.",
        role_overrides={"Sales": {"Leads": {"export": -99}}},
    ),
    _variant(
        "role-disables-module",
        "The target users' role 'Sales' disables the Calls module, although its other rights allow everything.",
        role_overrides={"Sales": {"Calls": {"access": -98}}},
    ),
    _variant(
        "role-relies-on-default-role",
        "The role 'Sales' does not list delete on Meetings, and the Default Role it falls back to denies it.",
        role_overrides={"Sales": {"Meetings": {"delete": None}}, "Default Role": {"Meetings": {"delete": -99}}},
    ),
    _variant(
        "role-module-admin-only",
        "The role 'Sales' opens the Calls module to administrators only (access 99).",
        role_overrides={"Sales": {"Calls": {"access": 99}}},
    ),
    _variant(
        "role-module-limited",
        "The role 'Sales' gives the Calls module 'limited' access (88): the module stays open.",
        role_overrides={"Sales": {"Calls": {"access": 88}}},
    ),
    _variant(
        "role-own-team-only",
        "The role 'Sales' lets its users edit and delete only their own team's Accounts (80).",
        role_overrides={"Sales": {"Accounts": {"edit": 80, "delete": 80}}},
    ),
    _variant(
        "role-actions-empty",
        "Every role's actions path answers an empty list: the rights cannot be read, only probed.",
        role_actions_empty=True,
    ),
    _variant(
        "roles-not-readable",
        "Roles are not exposed through the REST API (404): role rights cannot be verified, only probed.",
        roles_readable=False,
    ),
    _variant(
        "slow-writes",
        "Every data write takes 0.3 s: a healthy server on which a run can be interrupted in the middle of its probes.",
        write_delay=0.3,
    ),
    _variant(
        "large",
        "A large CRM: 5,000 users, 25 roles, 2,000 target mailboxes of which 5 are misconfigured.",
        faker_users=5000 - 18,  # the fixed users of seed.py make up the rest
        extra_full_roles=22,
        bulk_targets=1993,
        targets=HEALTHY.targets + ("nobody.here@example.com", "g.green@example.org", "dana.dormant@example.com",
                                   "henry.hill@example.com", "shared.mailbox@example.com"),
    ),
    _variant(
        "no-probe-users",
        "No target has a password: the probes of R4.4 and R4.5 cannot run (unverified, INCOMPLETE).",
        probe_users=(),
    ),
    _variant(
        "old-oauth-errors",
        "The token endpoint answers a wrong password with 401 invalid_credentials, as older OAuth 2 servers do.",
        wrong_password_error="invalid_credentials",
    ),
    _variant(
        "password-grant-disabled",
        "The OAuth client is registered, but the password grant is not enabled for it (400 unauthorized_client).",
        password_grant=False,
    ),
    _variant(
        "csrf-cookie",
        "The login page sets a CSRF cookie, and json.php refuses a sign-in whose CSRF header does not match it.",
        csrf_cookie=True,
    ),
    _variant(
        "localised",
        "A healthy 1CRM whose pages are in German: the home page is titled '1CRM: Startseite'.",
        language="de",
    ),
    _variant(
        "info-at-hand",
        "A healthy server branded info@hand 7.1.3 with the REST API: its About page says 'info@hand Version 7.1.3'.",
        product="info@hand",
        version="7.1.3",
    ),
    _variant(
        "probe-password-wrong",
        "The password given for probe user bob.baker is wrong.",
        wrong_probe_passwords=("bob.baker@example.com",),
    ),
    _variant(
        "custom-required-field",
        "A customisation made Contact's 'customer_code' required without a default, and /meta/fields says so: "
        "the probes fill it (GO).",
        required_fields=(("Contact", "customer_code", True),),
    ),
    _variant(
        "hidden-required-field",
        "A customisation made Lead's 'region' required, but /meta/fields does not list it: the probe Lead is "
        "refused with 400 (R4.4 failed as a customisation, not as missing rights).",
        required_fields=(("Lead", "region", False),),
    ),
    _variant(
        "no-email-folders",
        "The API lists no e-mail folder for the target users: a probe Email cannot be filed (R4.4 not verifiable).",
        email_folders=False,
    ),
]

#: Every preset by name. Treat as read-only: presets are frozen and nothing in the package mutates this dict.
PRESETS: dict[str, Preset] = {p.name: p for p in _ALL}


def unknown_preset(name: str) -> str:
    """One line for a name that is no preset: the closest names, and how to list them all."""
    typed = name.strip().lower()
    begun = [p for p in PRESETS if typed and p.startswith(typed)]  # "human" for human-check
    close = [repr(c) for c in (begun or difflib.get_close_matches(typed, PRESETS, n=3, cutoff=0.75))[:3]]
    either = " or ".join([", ".join(close[:-1]), close[-1]] if len(close) > 1 else close)
    hint = f" — did you mean {either}?" if close else ""
    return f"unknown simulator preset {name!r}{hint} (python -m crm_simulator --list-presets lists them)"


def preset_argument(value: str) -> str:
    """The argparse type of a --preset option: a usage error (exit 2) before anything starts."""
    if value not in PRESETS:
        raise argparse.ArgumentTypeError(unknown_preset(value))
    return value


def get_preset(preset: "str | Preset") -> Preset:
    if isinstance(preset, Preset):
        return preset
    try:
        return PRESETS[preset]
    except KeyError:
        raise ValueError(unknown_preset(preset)) from None
