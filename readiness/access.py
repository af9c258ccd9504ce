"""Step 1: confirm access to 1CRM from the Riva host (R1.1, R1.3 to R1.6; R1.2 is in tls.py)."""

from __future__ import annotations

import re
import secrets
import socket
import time
from collections.abc import Callable

from faker import Faker

from . import root_causes
from .client import CrmApi
from .config import CrmAddress, Credentials, Secret
from .errors import (ApiNotAvailable, AuthenticationFailed, CredentialsRefused, CrmError, CrmUnreachable, NonTlsRefused,
                     NotFound, RedirectRefused, UnexpectedReply)
from .http import CrmSession
from .outcome import Outcome
from .weblogin import SignIn, find_login_page, off_origin, same_origin, sign_in


# What a proxy answers itself when it will not or cannot forward: its refusal is no answer of the CRM.
PROXY_REFUSALS = {407: "refused the suite's credentials (check the user name and password in CRM_PROXY)",
                  502: "could not reach the CRM", 503: "could not reach the CRM (or the CRM is unavailable)",
                  504: "timed out reaching the CRM"}


def connect(crm: CrmAddress, session: CrmSession) -> Outcome:
    """R1.1: the name resolves and the port accepts a TCP connection within the time limit."""
    if session.proxies:  # the proxy resolves and connects for us: an answer of the CRM through it is the proof
        return _connect_through_proxy(crm, session)
    try:
        addresses = {info[4][0] for info in socket.getaddrinfo(crm.host, crm.port, type=socket.SOCK_STREAM)}
    except socket.gaierror as exc:
        return _unreachable(f"the host name {crm.host} does not resolve from this host ({exc.strerror}) — check "
                            "CRM_URL and this host's DNS")
    started = time.monotonic()
    try:
        socket.create_connection((crm.host, crm.port), timeout=session.timeout).close()
    except TimeoutError:
        return _unreachable(f"{crm.host} port {crm.port} did not accept a connection within {session.timeout:g} s "
                            "— a firewall may drop the traffic")
    except ConnectionRefusedError:
        return _unreachable(f"{crm.host} port {crm.port} refused the connection: no web server listens there — "
                            "check the port in CRM_URL and that the web server runs")
    except OSError as exc:
        return _unreachable(f"cannot connect to {crm.host} port {crm.port}: {exc.strerror or exc}")
    elapsed = (time.monotonic() - started) * 1000
    return Outcome.ok(f"{crm.host} ({', '.join(sorted(addresses))}) accepted a connection on port {crm.port} "
                      f"in {elapsed:.0f} ms")


def _connect_through_proxy(crm: CrmAddress, session: CrmSession) -> Outcome:
    try:
        response = session.head(f"{crm.base}/", allow_redirects=False)
    except CrmUnreachable as exc:  # for https the proxy's refusal of the tunnel (CONNECT) arrives here
        return _unreachable(f"{crm.host} is not reachable through the proxy: {exc}")
    refusal = PROXY_REFUSALS.get(response.status_code)
    if response.status_code == 407 or (refusal and not crm.is_https):
        # [assumed] over plain http a 5xx gateway error through a proxy is the proxy's own answer; an https CRM's
        # answers come through the tunnel, so there a 5xx is the CRM's (and a later check judges it).
        words = _proxy_words(session, response)
        return _unreachable(f"the proxy {refusal}: HTTP {response.status_code} {response.reason or ''}".rstrip()
                            + (f" ('{words}')" if words else "") + f" — {crm.host} was not reached; check CRM_PROXY "
                            "and that the proxy may connect to the CRM")
    return Outcome.ok(f"{crm.host} answered through the proxy (HTTP {response.status_code})")


def _unreachable(message: str) -> Outcome:
    root_causes.met(root_causes.CONNECTION)  # every later check would fail of it too
    return Outcome.fail(message)


def _proxy_words(session: CrmSession, response) -> str:
    """The proxy's own explanation, short: its error header, else the title or text of its error page."""
    headers = response.headers
    explained = headers.get("X-Squid-Error") or headers.get("Proxy-Status") or headers.get("Proxy-Authenticate")
    if explained:
        return " ".join(explained.split())[:160]
    try:  # a HEAD has no page: ask once more for it
        text = session.get(response.url, allow_redirects=False).text[:4000]
    except CrmError:
        return ""
    title = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    words = title.group(1) if title else re.sub(r"<[^>]+>", " ", text)
    return " ".join(words.split())[:160]


def login_page(crm: CrmAddress, session: CrmSession) -> Outcome:
    """R1.3: the address serves 1CRM's sign-in form."""
    page = find_login_page(session, crm.base)
    if not same_origin(page.url, crm.base):
        return Outcome.fail(off_origin("the login page", page.url, crm.base))
    if page.status != 200:
        return Outcome.fail(f"no login page at {page.url} (HTTP {page.status}) — is CRM_URL the address of the "
                            "1CRM login window?")
    if not page.has_login_form:
        return Outcome.fail(f"{page.url} (title '{page.title}') is not the 1CRM sign-in form: it lacks the fields "
                            "login_user, login_pass and login_button")
    return Outcome.ok(f"{page.url} shows the 1CRM sign-in form (title '{page.title}')")


def web_sign_in(crm: CrmAddress, session: CrmSession, user: Credentials) -> Outcome:
    """R1.4 scripted: the connection user signs in, reaches the home page, and signs out."""
    return judge_web_sign_in(sign_in(session, crm.base, user.username, user.password.reveal()), user.username)


def judge_web_sign_in(result: SignIn, username: str, *, how: str = "a scripted sign-in",
                      where: str = "through the web login") -> Outcome:
    """R1.4's verdict on a sign-in, whether scripted or done by a real browser (readiness/browser.py)."""
    if result.problem:
        return Outcome.fail(f"the web login gave no answer to judge when {username} signed in: {result.problem}")
    if result.human_check:
        return Outcome.fail(f"the login page asks for a human check (CAPTCHA) before {username} can sign in: "
                            f"{how} cannot pass it — have it lifted for the Riva host")
    if not result.accepted:
        root_causes.met(root_causes.sign_in(username))  # every later check as this user would fail of it too
        return Outcome.fail(f"the web login refused {username}: '{result.message}' — check the user name and "
                            "password (CRM_USERNAME, CRM_PASSWORD) and that the account is active")
    if not result.reached_home:
        return Outcome.fail(f"{username} was signed in, but the home page did not open (page title "
                            f"'{result.home_title}') — the session is lost after sign-in; check PHP's session "
                            "settings and cookies")
    if not result.signed_out:
        return Outcome.fail(f"{username} signed in, but signing out did not end the session", advisory=True)
    return Outcome.ok(f"{username} signed in {where}, reached '{result.home_title}' and signed out")


def api_sign_in(api: CrmApi) -> Outcome:
    """R1.5: the REST API answers and the connection user authenticates to it."""
    try:
        version = api.version()
    except (ApiNotAvailable, NonTlsRefused) as exc:
        return Outcome.fail(str(exc))
    except (NotFound, UnexpectedReply):
        version = {}  # some servers hide the version; /me below still proves the API
    try:
        me = api.me()
    except (ApiNotAvailable, NonTlsRefused) as exc:
        return Outcome.fail(str(exc))
    except (AuthenticationFailed, RedirectRefused) as exc:
        return Outcome.fail(f"{api.username} cannot sign in to the REST API with {api.auth_method}: {exc}")
    except (NotFound, UnexpectedReply) as exc:
        return Outcome.fail(f"the REST API does not answer at {api.root}: {exc}")
    found = f" (version {version['version']})" if version.get("version") else ""
    return Outcome.ok(f"the REST API at {api.root} answers{found}; {api.username} authenticates with "
                      f"{api.auth_method} as '{me.get('name') or me.get('id')}'")


def unknown_user_refused(crm: CrmAddress, session: CrmSession, api_as: Callable[[Credentials], CrmApi], *,
                         rest_api: bool = True) -> Outcome:
    """R1.6: a sign-in as a random, non-existent user is refused (proves the gate can fail); on a server
    without the REST API, the web half alone."""
    stranger = random_identity()
    username = stranger.username
    api = api_as(stranger)
    refusals, notes = [], []
    result = sign_in(session, crm.base, username, stranger.password.reveal())
    if result.accepted:
        return Outcome.fail(f"the web login accepted the non-existent user '{api.username}': authentication is not "
                            "enforced — do not connect Riva to this server")
    if result.problem:  # neither accepted nor refused: the negative control is not shown
        return Outcome.fail(f"the web login gave no answer to judge when the non-existent user '{api.username}' "
                            f"signed in: {result.problem}")
    refusals.append("the human check of the web login" if result.human_check else f"the web login ('{result.message}')")
    if not rest_api:
        return Outcome.ok(f"a sign-in as the non-existent user '{api.username}' was refused by {refusals[0]} (the "
                          "server has no REST API to try)")
    try:
        api.me()
        return Outcome.fail(f"the REST API accepted the non-existent user '{api.username}': authentication is not "
                            "enforced — do not connect Riva to this server")
    except CredentialsRefused as exc:
        refusals.append(f"the REST API (HTTP {exc.status})")
    except AuthenticationFailed as exc:
        if api.auth_method == "HTTP Basic":  # [assumed] a refused Basic sign-in cannot say why (1crm-api.md §2)
            refusals.append(f"the REST API (HTTP {exc.status})")
        else:  # the API client or its grant was refused before any user name was looked at
            notes.append(f"the REST API refused the sign-in before looking at the user ({exc}; see R1.5)")
    except RedirectRefused as exc:
        notes.append(f"the REST API was not tried: {exc}")
    except (ApiNotAvailable, NonTlsRefused):
        pass  # no API to sign in to: R1.5 says why
    note = f"; {'; '.join(notes)}" if notes else ""
    return Outcome.ok(f"a sign-in as the non-existent user '{api.username}' was refused by "
                      f"{' and by '.join(refusals)}{note}")


def random_identity() -> Credentials:
    """A user name no real account has (never risk locking out a real one) and a throw-away password."""
    return Credentials(f"riva-readiness-{Faker().user_name()}-{secrets.token_hex(4)}", Secret(secrets.token_urlsafe(18)))
