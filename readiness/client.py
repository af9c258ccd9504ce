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

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from .errors import (
    AccessDenied,
    ApiNotAvailable,
    AuthenticationFailed,
    CrmError,
    NonTlsRefused,
    NotFound,
    ServerError,
    UnexpectedReply,
)
from .http import CrmSession

PAGE_SIZE = 200  # the API's maximum per call
PAGE_MARGIN = 2  # pages a list may run beyond what its first page's total_results announced
MAX_LIST_RECORDS = 200_000  # more than any CRM the suite is for: beyond this a list is not followed
TOKEN_PATH = "auth/user/access_token"
_EXPIRY_MARGIN = 30  # seconds: treat a token as expired this early
_TLS_WORDS = re.compile(r"\b(https|tls|ssl|secure)\b", re.IGNORECASE)
_ACL_HINT = re.compile(r"\[(?P<module>\w+):(?P<action>\w+)\]")  # [assumed] e.g. "[Meetings:delete]"


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
        self._lock = threading.Lock()

    def __call__(self, request):
        request.headers["Authorization"] = f"Bearer {self.token()}"
        return request

    def token(self) -> str:
        with self._lock:
            if self._token is None or time.monotonic() >= self._expires_at:
                self._obtain()
            return self._token

    def renew(self) -> None:
        with self._lock:
            self._token = None
            self._obtain()

    def _obtain(self) -> None:
        grant = None
        if self._refresh:
            try:
                grant = self._api.request_token({"grant_type": "refresh_token", "refresh_token": self._refresh, **self._client})
            except AuthenticationFailed:
                grant = None  # refresh token expired: sign in again
        if grant is None:
            grant = self._api.request_token(
                {"grant_type": "password", "username": self._username, "password": self._password,
                 "scope": "read write profile", **self._client}
            )
        self._token = grant["access_token"]
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
        while True:
            params: dict[str, Any] = {"fields[]": list(fields), "offset": offset, "limit": page_size}
            params.update({f"filters[{k}]": v for k, v in (filters or {}).items()})
            if order:
                params["order"] = order
            page = self._call("GET", path, params=params, expect=(_is_page, _PAGE_SHAPE))
            records, total = page["records"], int(str(page["total_results"]).strip())
            if last_page is None:
                last_page = -(-min(total, MAX_LIST_RECORDS) // page_size) + PAGE_MARGIN
                if total > MAX_LIST_RECORDS:
                    raise UnexpectedReply(f"{path}: the server announces total_results={total}, more than the "
                                          f"{MAX_LIST_RECORDS} records the suite lists", url=self._url(path))
            ids = {str(r["id"]) for r in records if r.get("id") is not None}
            if records and ids and ids <= seen:
                raise UnexpectedReply(f"{path}: the server returned the same records again at offset {offset} "
                                      f"(total_results={total}): its paging does not advance", url=self._url(path))
            seen |= ids
            yield from records
            offset += len(records)
            if offset >= total:
                return
            if not records:
                raise UnexpectedReply(f"{path}: the server returned no records at offset {offset} although "
                                      f"total_results={total}: the list is incomplete", url=self._url(path))
            last_page -= 1
            if last_page <= 0:
                raise UnexpectedReply(f"{path}: the server kept returning pages beyond total_results={total}",
                                      url=self._url(path))

    def fields_of(self, model: str) -> dict:
        """The model's field metadata (GET /meta/fields/{Model})."""
        reply = self._call("GET", f"meta/fields/{model}", expect=(lambda r: isinstance(r.get("fields") or {}, dict),
                                                                   'an object with "fields" an object'))
        return reply.get("fields") or {}

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
        return self._call("POST", TOKEN_PATH, json=body, authenticate=False,
                          expect=(lambda r: isinstance(r.get("access_token"), str) and r["access_token"],
                                  "an object with a string access_token"))

    # -- plumbing ------------------------------------------------------------------------------

    def _url(self, path: str) -> str:
        return f"{self.root}/{path}"

    def _call(self, method: str, path: str, *, authenticate: bool = True, expect=None, **kwargs) -> dict:
        """The reply's JSON object; `expect` is (test, description) of the shape the caller relies on."""
        url = self._url(path)
        auth = self.auth if authenticate else None
        response = self.session.request(method, url, auth=auth, **kwargs)
        if response.status_code == 401 and isinstance(auth, OAuth2PasswordAuth):
            auth.renew()  # the token expired early or was revoked: one fresh sign-in, one repeat
            response = self.session.request(method, url, auth=auth, **kwargs)
        body = parse_reply(response, path)
        if expect is not None:
            _expect(expect[0](body), path, expect[1], body, response)
        return body


def parse_reply(response: requests.Response, path: str) -> dict:
    """The JSON object of a successful (2xx) reply, or the CrmError that explains the failure."""
    url = response.request.url if response.request else None
    body = _json_or_none(response)
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
    if status == 401 or (status == 400 and body.get("error") in ("invalid_credentials", "invalid_client")):
        raise AuthenticationFailed(_auth_message(body, path), url=url, status=status)
    if status == 403:
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
    raise CrmError(f"HTTP {status} for {path}: {text}", url=url, status=status)


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
    message = body.get("message") or "not authenticated"
    if error == "invalid_client":
        return f"the OAuth2 API client was refused ({message}): check CRM_CLIENT_ID and CRM_CLIENT_SECRET"
    if error == "invalid_credentials":
        return f"the user name or password was refused ({message})"
    if path != TOKEN_PATH and "basic" in message.lower():
        return (f"HTTP Basic sign-in is refused ({message}); Basic is disabled by default in 1CRM — "
                "register an OAuth2 API client and set CRM_CLIENT_ID and CRM_CLIENT_SECRET")
    return f"not authenticated ({message})"


def _json_or_none(response: requests.Response):
    if "json" not in response.headers.get("Content-Type", "") and not response.content.lstrip().startswith((b"{", b"[")):
        return None
    try:
        return response.json()
    except ValueError:
        return None
