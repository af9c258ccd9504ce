"""In-memory credentials the simulator hands out: OAuth tokens, web sessions, CSRF tokens; and sign-in.

All of it lives in one ``AuthState`` per Simulator (never at module level) and is thread-safe.
"""

from __future__ import annotations

import base64
import json
import secrets
import threading
import time
from dataclasses import dataclass
from typing import TYPE_CHECKING

from .seed import DUMMY_USER

if TYPE_CHECKING:
    from .presets import Preset
    from .store import Store

REFRESH_LIFETIME = 30 * 24 * 3600  # [assumed] refresh tokens live 30 days


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


@dataclass
class _Grant:
    user_id: str
    client_id: str
    scopes: list[str]
    expires_at: float


class AuthState:
    def __init__(self, token_lifetime: int):
        self.token_lifetime = token_lifetime
        self._lock = threading.Lock()
        self._access: dict[str, _Grant] = {}
        self._refresh: dict[str, _Grant] = {}
        self._sessions: dict[str, str] = {}  # PHPSESSID -> user id
        self._csrf: set[str] = set()
        self._issued: list[str] = []  # every credential handed out, for tests that prove none leaks

    # ----- OAuth ---------------------------------------------------------------------------------

    def issue_tokens(self, user_id: str, client_id: str, scopes: list[str]) -> dict:
        """A token reply shaped like 1CRM's (league/oauth2-server): a JWT-like access token."""
        now = int(time.time())
        header = {"typ": "JWT", "alg": "RS256"}
        payload = {
            "aud": client_id,
            "jti": secrets.token_hex(20),
            "iat": now,
            "nbf": now,
            "exp": now + self.token_lifetime,
            "sub": f"Users:{user_id}",
            "scopes": scopes,
        }
        # The signature is random: nobody verifies it, the server looks the whole token up.
        access = ".".join(
            [
                _b64url(json.dumps(header, separators=(",", ":")).encode()),
                _b64url(json.dumps(payload, separators=(",", ":")).encode()),
                secrets.token_urlsafe(64),
            ]
        )
        refresh = secrets.token_urlsafe(96)
        with self._lock:
            self._issued += [access, refresh]
            self._access[access] = _Grant(user_id, client_id, scopes, time.time() + self.token_lifetime)
            self._refresh[refresh] = _Grant(user_id, client_id, scopes, time.time() + REFRESH_LIFETIME)
        return {
            "token_type": "Bearer",
            "expires_in": self.token_lifetime,
            "access_token": access,
            "refresh_token": refresh,
        }

    def user_for_token(self, access_token: str) -> str | None:
        with self._lock:
            grant = self._access.get(access_token)
            if grant is None:
                return None
            if grant.expires_at <= time.time():
                del self._access[access_token]
                return None
            return grant.user_id

    def use_refresh_token(self, refresh_token: str, client_id: str) -> _Grant | None:
        """The grant behind a refresh token, consumed (refresh tokens are single-use) [assumed]."""
        with self._lock:
            grant = self._refresh.get(refresh_token)
            if grant is None or grant.client_id != client_id:
                return None
            del self._refresh[refresh_token]
            if grant.expires_at <= time.time():
                return None
            return grant

    def expire_access_tokens(self) -> None:
        """Make every issued access token expire now (refresh tokens stay valid)."""
        with self._lock:
            for grant in self._access.values():
                grant.expires_at = 0.0

    # ----- web sessions -----------------------------------------------------------------------

    def new_csrf_token(self) -> str:
        token = secrets.token_urlsafe(32)
        with self._lock:
            self._issued.append(token)
            self._csrf.add(token)
        return token

    def csrf_valid(self, cookie: str | None, header: str | None) -> bool:
        if not cookie or not header or not secrets.compare_digest(cookie, header):
            return False
        with self._lock:
            return cookie in self._csrf

    def new_session(self, user_id: str) -> str:
        sid = secrets.token_hex(16)
        with self._lock:
            self._issued.append(sid)
            self._sessions[sid] = user_id
        return sid

    def session_user(self, sid: str | None) -> str | None:
        if not sid:
            return None
        with self._lock:
            return self._sessions.get(sid)

    def end_session(self, sid: str | None) -> bool:
        with self._lock:
            return self._sessions.pop(sid, None) is not None if sid else False

    def issued(self) -> list[str]:
        """Every access and refresh token, session id and CSRF token handed out so far."""
        with self._lock:
            return list(self._issued)

    def active_sessions(self) -> int:
        with self._lock:
            return len(self._sessions)


def sign_in(store: Store, preset: Preset, user_name: str, password: str) -> dict | None:
    """The active user with these credentials (REST API and web login alike), else None."""
    user = store.check_credentials(user_name, password)
    if user is None and preset.accepts_any_login:
        user = store.user_by_name(DUMMY_USER)  # the broken server lets anybody in
    return user
