"""The 1CRM REST API client (1crm-api.md), signed in as one user.

Authentication is a strategy: OAuth2 password grant (with refresh) when an API client is
configured, HTTP Basic otherwise. There is no impersonation endpoint in 1CRM, so acting as a
target user means a second CrmApi signed in with that user's own credentials.
"""

from __future__ import annotations

import json
import re
import threading
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urljoin, urlsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from . import root_causes
from .errors import (
    AccessDenied,
    ApiNotAvailable,
    AuthenticationFailed,
    CrmError,
    CredentialsRefused,
    NonTlsRefused,
    NotFound,
    Refused,
    RedirectRefused,
    ServerError,
    UnexpectedReply,
)
from .http import CrmSession, json_or_none
from .redaction import Redactor

PAGE_SIZE = 200  # the API's maximum per call
PAGE_MARGIN = 2  # pages a list may run beyond what its first page's total_results announced
MAX_LIST_RECORDS = 200_000  # more than any CRM the suite is for: beyond this a list is not followed
TOKEN_PATH = "auth/user/access_token"
_EXPIRY_MARGIN = 30  # seconds: treat a token as expired this early
_TLS_WORDS = re.compile(r"\b(https|tls|ssl|secure)\b", re.IGNORECASE)
_ACL_HINT = re.compile(r"\[(?P<module>\w+):(?P<action>\w+)\]")  # [assumed] e.g. "[Meetings:delete]"
# [assumed] OAuth 2 error codes of the token endpoint (1crm-api.md section 2): a PHP OAuth 2 server answers a wrong
# user name or password with invalid_grant (RFC 6749, current) or invalid_credentials (older servers).
CREDENTIALS_REFUSED = ("invalid_grant", "invalid_credentials")
GRANT_NOT_ENABLED = ("unauthorized_client", "unsupported_grant_type")
_SENT_SECRETS = ("password", "client_secret", "refresh_token")


class OAuth2PasswordAuth(AuthBase):
    """Bearer tokens from the password grant; refreshed before expiry and once after a 401."""

    def __init__(self, api: CrmApi, client_id: str, client_secret: str, username: str, password: str):
        self._api = api
        self._client = {"client_id": client_id, "client_secret": client_secret}
        self._username = username
        self._password = password
        self._token: str | None = None
        self._refresh: str | None = None
        self._expires_at = 0.0
        self._unproven = False  # a token no request has been accepted with yet
        self._lock = threading.Lock()

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._obtain()
            return self._token

    def renew(self, refused: str) -> bool:
        """A new token after `refused` got a 401; False when even a fresh token is refused: the sign-in is
        not repeated for every request then (a locked-out account is worse than a failed check)."""
        with self._lock:
            if self._token != refused:
                return True  # another thread renewed it already
            if self._unproven:
                return False
            self._token = None
            self._obtain()
            return True

    def accepted(self, token: str) -> None:
        with self._lock:
            if token == self._token:
                self._unproven = False

    def _obtain(self) -> None:
        grant = None
        refresh, self._refresh = self._refresh, None  # each refresh token is tried once
        if refresh:
            try:
                grant = self._api.request_token({"grant_type": "refresh_token", "refresh_token": refresh, **self._client})
            except AuthenticationFailed:
                grant = None  # refresh refused (expired, revoked, grant not enabled): one password grant instead
        if grant is None:
            grant = self._api.request_token(
                {"grant_type": "password", "username": self._username, "password": self._password,
                 "scope": "read write profile", **self._client}
            )
        self._token, self._unproven = grant["access_token"], True
        self._refresh = grant.get("refresh_token") if isinstance(grant.get("refresh_token"), str) else None
        try:
            lifetime = float(grant.get("expires_in") or 3600)
        except (TypeError, ValueError):
            lifetime = 3600.0  # [assumed] an unreadable lifetime: the 401 after expiry renews the token anyway
        self._expires_at = time.monotonic() + max(lifetime - _EXPIRY_MARGIN, 1)


class CrmApi:
    """GET/POST/PATCH/DELETE on <crm>/api.php as one signed-in user, with 1CRM's errors made clear."""

    def __init__(self, session: CrmSession, base_url: str, *, username: str | None = None,
                 password: str | None = None, client_id: str | None = None, client_secret: str | None = None):
        self.session = session
        self.root = f"{base_url}/api.php"
        self.username = username
        self.auth: AuthBase | None = None
        if username and password is not None:
            if client_id and client_secret:
                self.auth = OAuth2PasswordAuth(self, client_id, client_secret, username, password)
            else:
                self.auth = HTTPBasicAuth(username, password)

    @property
    def auth_method(self) -> str:
        return "OAuth2 password grant" if isinstance(self.auth, OAuth2PasswordAuth) else "HTTP Basic"

    # -- endpoints ---------------------------------------------------------------------------

    def version(self) -> dict:
        """GET /version needs no sign-in; a 403 here means no API in this edition (or no plain http)."""
        return self._call("GET", "version", authenticate=False)

    def me(self) -> dict:
        return self._call("GET", "me", expect=(lambda me: isinstance(me.get("id"), str) and me["id"],
                                               "an object with a string id"))

    def list(self, model: str, *, fields=(), filters: dict | None = None, order: str | None = None,
             page_size: int = PAGE_SIZE) -> Iterator[dict]:
        """Every record of a list, page by page (offset until total_results).

        A server cannot make it run on: it follows at most the pages the first total_results announces (and
        PAGE_MARGIN more), and a page that is empty too early or brings no new record ends it as an error."""
        path = f"data/{model}"
        offset, seen, last_page = 0, set(), None
        total = 0  # the most any page announced: a later page that announces fewer cannot end the list early
        while True:
            params: dict[str, Any] = {"fields[]": list(fields), "offset": offset, "limit": page_size}
            params.update({f"filters[{k}]": v for k, v in (filters or {}).items()})
            if order:
                params["order"] = order
            page = self._call("GET", path, params=params, expect=(_is_page, _PAGE_SHAPE))
            records, total = page["records"], max(total, int(str(page["total_results"]).strip()))
            if last_page is None:
                last_page = -(-min(total, MAX_LIST_RECORDS) // page_size) + PAGE_MARGIN
            ids = {str(r["id"]) for r in records if r.get("id") is not None}
            if records and ids and ids <= seen:
                raise UnexpectedReply(f"{path}: the server returned the same records again at offset {offset} "
                                      f"(total_results={total}): its paging does not advance", url=self._url(path))
            seen |= ids
            yield from records
            offset += len(records)
            if offset >= total:
                return
            if offset >= MAX_LIST_RECORDS:  # said only to a caller that reads this far (not to a change scan)
                raise UnexpectedReply(f"{path}: the server announces total_results={total}, more than the "
                                      f"{MAX_LIST_RECORDS} records the suite lists", url=self._url(path))
            if not records:
                raise UnexpectedReply(f"{path}: the server returned no records at offset {offset} although "
                                      f"total_results={total}: the list is incomplete", url=self._url(path))
            last_page -= 1
            if last_page <= 0:
                raise UnexpectedReply(f"{path}: the server kept returning pages beyond total_results={total}",
                                      url=self._url(path))

    def related(self, model: str, record_id: str, link: str, *, fields=()) -> Iterator[dict]:
        """A related list (GET /data/{Model}/{id}/{link}): paged like a list, and it too needs fields[]."""
        return self.list(f"{model}/{record_id}/{link}", fields=fields)

    def fields_meta(self, model: str):
        """The whole reply of GET /meta/fields/{Model} (fields and advertised filters), shape unchecked."""
        return self._call("GET", f"meta/fields/{model}")

    def read(self, model: str, record_id: str, *, fields=()) -> dict:
        return self._call("GET", f"data/{model}/{record_id}", params={"fields[]": list(fields)},
                          expect=(lambda r: isinstance(r.get("record"), dict), 'an object with "record" an object'),
                          )["record"]

    def create(self, model: str, data: dict) -> str:
        return self._call("POST", f"data/{model}", json={"data": data},
                          expect=(lambda r: isinstance(r.get("id"), str) and r["id"].strip(),
                                  "an object with a non-empty string id"))["id"]

    def update(self, model: str, record_id: str, data: dict) -> None:
        self._call("PATCH", f"data/{model}/{record_id}", json={"data": data})

    def delete(self, model: str, record_id: str) -> None:
        self._call("DELETE", f"data/{model}/{record_id}")

    def request_token(self, body: dict) -> dict:
        """The OAuth2 token endpoint takes a JSON body, not a form (1crm-api.md section 2)."""
        response = self._send("POST", TOKEN_PATH, None, json=body)
        reply = parse_reply(response, TOKEN_PATH, client_id=body.get("client_id"))
        _expect(isinstance(reply.get("access_token"), str) and reply["access_token"], TOKEN_PATH,
                "an object with a string access_token", reply, response)
        return reply

    # -- plumbing ------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.root}/{path}"

    def _call(self, method: str, path: str, *, authenticate: bool = True, expect=None, **kwargs) -> dict:
        """The reply's JSON object; `expect` is (test, description) of the shape the caller relies on."""
        try:
            return self._reply(method, path, authenticate=authenticate, expect=expect, **kwargs)
        except AuthenticationFailed as exc:
            if self.username and authenticate:  # this user's sign-in failed: later checks as this user cannot run
                root_causes.met(root_causes.sign_in(self.username), str(exc))
            raise

    def _reply(self, method: str, path: str, *, authenticate: bool, expect, **kwargs) -> dict:
        auth = self.auth if authenticate else None
        if isinstance(auth, OAuth2PasswordAuth):
            response = self._with_token(auth, method, path, **kwargs)
        else:
            response = self._send(method, path, auth, **kwargs)
        try:
            body = parse_reply(response, path)
        except (AuthenticationFailed, AccessDenied) as exc:
            # [assumed] Basic refused or disabled: 401, possibly 403 (1crm-api.md section 2); /me denies no right.
            if isinstance(auth, HTTPBasicAuth) and (isinstance(exc, AuthenticationFailed) or path == "me"):
                raise AuthenticationFailed(_basic_message(response), url=exc.url, status=exc.status) from None
            raise
        if expect is not None:
            _expect(expect[0](body), path, expect[1], body, response)
        return body

    def _with_token(self, auth: OAuth2PasswordAuth, method: str, path: str, **kwargs) -> requests.Response:
        """The token is fetched before the request, on a deadline of its own; after a 401, one fresh sign-in
        and one repeat (the token expired early or was revoked)."""
        token = auth.token()
        response = self._send(method, path, auth, **kwargs)
        if response.status_code == 401 and auth.renew(token):
            token = auth.token()
            response = self._send(method, path, auth, **kwargs)
        if response.status_code != 401:
            auth.accepted(token)
        return response

    def _send(self, method: str, path: str, auth: AuthBase | None, **kwargs) -> requests.Response:
        """A request that carries credentials (the token endpoint's body, a Basic or Bearer header) goes to this
        address only: a redirect is a finding, never followed, so that no credential reaches another origin."""
        url = self._url(path)
        if auth is None and path != TOKEN_PATH:
            return self.session.request(method, url, **kwargs)
        response = self.session.request(method, url, auth=auth, allow_redirects=False, **kwargs)
        if response.is_redirect:
            raise RedirectRefused(redirect_finding(response, "the token endpoint" if path == TOKEN_PATH else path),
                                  url=url, status=response.status_code)
        return response


def redirect_finding(response: requests.Response, what: str) -> str:
    """In words: where a request carrying credentials was redirected to, and what the admin can do."""
    target = urljoin(response.url, response.headers.get("Location", ""))
    hint = "set CRM_URL to the address the CRM itself uses, or find out why the server redirects"
    came, went = urlsplit(response.url), urlsplit(target)
    if (came.scheme, went.scheme) == ("http", "https") and came.hostname == went.hostname:
        hint = "set CRM_URL to the https:// address"
    return (f"{what} redirected (HTTP {response.status_code}) to {target}: credentials are not sent there — {hint}")


def parse_reply(response: requests.Response, path: str, *, client_id: str | None = None) -> dict:
    """The JSON object of a successful (2xx) reply, or the CrmError that explains the failure."""
    url = response.request.url if response.request else None
    body = _json_or_none(response)
    if path == TOKEN_PATH and 400 <= response.status_code < 500:
        raise token_refusal(response, body, client_id)  # JSON or not: a refused sign-in, with the fix
    success = 200 <= response.status_code < 300
    if body is None and (response.content or success):
        raise UnexpectedReply(f"unexpected reply from server: {_described(response, path)}", url=url,
                              status=response.status_code)
    if success:
        _expect(isinstance(body, dict), path, "a JSON object", body, response)
        return body
    if 300 <= response.status_code < 400:
        where = response.headers.get("Location", "nowhere")
        raise UnexpectedReply(f"unexpected reply from server: HTTP {response.status_code} for {path}, a redirect to "
                              f"{where[:120]!r} (a redirected write is never followed)", url=url,
                              status=response.status_code)
    body = body if isinstance(body, dict) else {}
    text = " ".join(str(body.get(k)) for k in ("message", "error", "hint") if body.get(k)) or response.reason
    status = response.status_code
    if status == 401 or (status == 400 and body.get("error") in (*CREDENTIALS_REFUSED, "invalid_client")):
        error = CredentialsRefused if body.get("error") in CREDENTIALS_REFUSED else AuthenticationFailed
        raise error(_auth_message(body, path), url=url, status=status)
    if status == 403:
        # [assumed] a refused non-TLS call is a 403, its body undocumented: "tls_required" or words about TLS (§1)
        if body.get("error") == "tls_required" or (url or "").startswith("http:") and _TLS_WORDS.search(text):
            raise NonTlsRefused(
                "the server rejects non-TLS API calls (1CRM's default): use the https:// address, "
                "or let an administrator allow plain http API calls", url=url, status=status)
        if path == "version":
            raise ApiNotAvailable(
                f"the REST API answers 403 even where no sign-in is needed ({text}): this edition has no "
                "REST API (1CRM Startup) — Riva needs 1CRM Pro or Enterprise", url=url, status=status)
        hint = _ACL_HINT.search(text)
        where = f"[{hint['module']}:{hint['action']}] " if hint else ""
        raise AccessDenied(
            f"{where}{body.get('message') or 'Access denied'}", url=url, status=status,
            module=hint["module"] if hint else None, action=hint["action"] if hint else None)
    if status == 404:
        raise NotFound(f"{path}: not found ({text})", url=url, status=status)
    if status >= 500:
        raise ServerError(f"server error HTTP {status} for {path}: {text}", url=url, status=status)
    if status == 400 and path != TOKEN_PATH:
        words = " ".join(str(body[k]) for k in ("message", "hint") if body.get(k)) or text  # not the error code
        raise Refused(f"HTTP 400 for {path}: {text}", reason=words, url=url, status=status)
    raise CrmError(f"HTTP {status} for {path}: {text}", url=url, status=status)


def token_refusal(response: requests.Response, body: dict, client_id: str | None) -> AuthenticationFailed:
    """What a 4xx from the token endpoint means, with the fix (1crm-api.md section 2): never a suite error."""
    body = body if isinstance(body, dict) else {}
    url, status, error = response.request.url if response.request else None, response.status_code, body.get("error")
    if error in CREDENTIALS_REFUSED or error == "invalid_client":
        return (CredentialsRefused if error in CREDENTIALS_REFUSED else AuthenticationFailed)(
            _auth_message(body, TOKEN_PATH), url=url, status=status)
    if error in GRANT_NOT_ENABLED:
        message = body.get("message") or body.get("error_description") or error
        return AuthenticationFailed(
            f"the API client {client_id} may not use this sign-in ({error}: {message}): enable the password grant for "
            f"client {client_id} in 1CRM's admin interface", url=url, status=status)
    return AuthenticationFailed(f"sign-in refused: the token endpoint answered HTTP {status}: {_excerpt(response)!r}",
                                url=url, status=status)


def _excerpt(response: requests.Response) -> str:
    """A short excerpt of a reply, without anything the request itself sent as a secret."""
    redactor = Redactor()
    try:
        sent = json.loads(response.request.body or b"{}") if response.request else {}
    except ValueError:
        sent = {}
    if isinstance(sent, dict):
        redactor.add(*(str(sent[k]) for k in _SENT_SECRETS if sent.get(k)))
    return redactor.text(re.sub(r"\s+", " ", response.text[:160]).strip())


def _described(response: requests.Response, path: str) -> str:
    excerpt = re.sub(r"\s+", " ", response.text[:160]).strip()
    return (f"HTTP {response.status_code} ({response.headers.get('Content-Type', 'no content type')}) for {path}: "
            f"{excerpt!r}")


def _expect(holds, path: str, expected: str, got, response: requests.Response) -> None:
    """The shape the client relies on, or an UnexpectedReply saying what was expected and what came back."""
    if holds:
        return
    shown = re.sub(r"\s+", " ", json.dumps(got, default=str)[:160])
    raise UnexpectedReply(f"unexpected reply from server: HTTP {response.status_code} for {path}: expected "
                          f"{expected}, got {shown}", url=response.request.url if response.request else None,
                          status=response.status_code)


_PAGE_SHAPE = 'an object with "records" a list of objects and "total_results" a whole number'


def _is_page(page: dict) -> bool:
    records, total = page.get("records"), page.get("total_results")
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records) or isinstance(total, bool):
        return False
    try:
        return int(str(total).strip()) >= 0  # [assumed] a number, or a numeric string
    except ValueError:
        return False


def _auth_message(body: dict, path: str) -> str:
    error = body.get("error")
    message = body.get("message") or body.get("error_description") or "not authenticated"
    if error == "invalid_client":
        return f"the OAuth2 API client was refused ({message}): check CRM_CLIENT_ID and CRM_CLIENT_SECRET"
    if error in CREDENTIALS_REFUSED:
        return f"the user name or password was refused ({message})"
    return f"not authenticated ({message})"


def _basic_message(response: requests.Response) -> str:
    body = _json_or_none(response)
    words = (body.get("message") or body.get("error")) if isinstance(body, dict) else None
    return (f"HTTP Basic sign-in is refused (HTTP {response.status_code}: {words or response.reason}): the user name or "
            "password is wrong, or Basic is disabled, as it is by default in 1CRM — register an OAuth2 API client and "
            "set CRM_CLIENT_ID and CRM_CLIENT_SECRET")


def _json_or_none(response: requests.Response):
    return json_or_none(response.content, response.headers.get("Content-Type", ""))
