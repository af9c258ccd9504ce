"""Keeps secrets out of every report, attachment, log and message (G3).

Two layers: known-sensitive fields are masked by name, and every secret value the run
knows of (passwords, client secret, tokens and cookies seen on the wire) is masked
wherever it appears as text, including its URL-encoded and Basic-auth forms.
"""

from __future__ import annotations

import base64
import threading
from urllib.parse import quote, quote_plus

MASK = "***"

SENSITIVE_KEYS = frozenset(
    {
        "password",
        "user_password",
        "client_secret",
        "access_token",
        "refresh_token",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-onecrm-csrf-token",
    }
)

_MIN_SECRET_LENGTH = 4  # shorter values would mask ordinary words


class Redactor:
    def __init__(self) -> None:
        self._secrets: set[str] = set()
        self._lock = threading.Lock()

    def add(self, *values: str | None) -> None:
        """Registers secret values; their encoded forms are registered too."""
        with self._lock:
            for value in values:
                if value and len(value) >= _MIN_SECRET_LENGTH:
                    self._secrets.update({value, quote(value, safe=""), quote_plus(value)})

    def add_basic_credentials(self, username: str, password: str) -> None:
        self.add(base64.b64encode(f"{username}:{password}".encode()).decode())

    def text(self, value: str) -> str:
        with self._lock:
            secrets = sorted(self._secrets, key=len, reverse=True)
        for secret in secrets:
            value = value.replace(secret, MASK)
        return value

    def mapping(self, data):
        """A deep copy of JSON-like data with sensitive keys masked and secrets scrubbed."""
        if isinstance(data, dict):
            return {
                k: MASK if str(k).lower() in SENSITIVE_KEYS else self.mapping(v) for k, v in data.items()
            }
        if isinstance(data, list):
            return [self.mapping(v) for v in data]
        if isinstance(data, str):
            return self.text(data)
        return data
