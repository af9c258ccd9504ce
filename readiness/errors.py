"""Every problem the suite can explain in one line is one of these exceptions.

Anything raised that is *not* a ReadinessError is a defect of the suite itself.
"""

from __future__ import annotations

from pathlib import Path


class ReadinessError(Exception):
    """A known, explainable problem; its message is what the user reads."""


class ConfigError(ReadinessError):
    """Bad input (settings, .env, targets file): the run stops before any request is sent."""


def read_input_file(path: Path) -> str:
    """The text of a file the user wrote (a BOM tolerated); unreadable or not UTF-8 is a ConfigError."""
    try:
        return path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte {exc.start}) — save the file as UTF-8") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read ({exc.strerror})") from None


class ReadOnlyViolation(ReadinessError):
    """A write was attempted while READINESS_MODE=read-only; it never left the process."""


class CrmError(ReadinessError):
    """The CRM (or the network in front of it) did not give a usable answer."""

    def __init__(self, message: str, *, url: str | None = None, status: int | None = None):
        super().__init__(message)
        self.url = url
        self.status = status


class CrmUnreachable(CrmError):
    """No HTTP answer at all: name resolution, refused or dropped connection, time-out, proxy."""


class CrmTimeout(CrmUnreachable):
    """No answer within the time limit."""


class TlsError(CrmUnreachable):
    """The TLS handshake failed or the certificate was not trusted."""


class UnexpectedReply(CrmError):
    """The reply was not the JSON the API promises (an HTML error page from a proxy or PHP)."""


class ApiNotAvailable(CrmError):
    """The edition has no REST API (1CRM Startup answers 403 on every API call)."""


class NonTlsRefused(CrmError):
    """The server refuses API calls over plain http (the 1CRM default)."""


class AuthenticationFailed(CrmError):
    """The credentials or the API client were refused."""


class CredentialsRefused(AuthenticationFailed):
    """The user name or password itself was refused (not the API client, the grant or the sign-in method)."""


class RedirectRefused(UnexpectedReply):
    """A request carrying credentials was answered with a redirect, which the suite never follows."""


class AccessDenied(CrmError):
    """The signed-in user's role forbids this module/action."""

    def __init__(self, message: str, *, module: str | None = None, action: str | None = None, **kw):
        super().__init__(message, **kw)
        self.module = module
        self.action = action


class NotFound(CrmError):
    """404: an unknown endpoint, model or record."""


class Refused(CrmError):
    """400 on a data request: the server refused the data sent (a missing or invalid field), not the user."""

    def __init__(self, message: str, *, reason: str = "", **kw):
        super().__init__(message, **kw)
        self.reason = reason or message  # the server's own words


class ServerError(CrmError):
    """5xx after the bounded retries, or any other unusable status."""


class ReplyTooLarge(UnexpectedReply):
    """The reply passed the size the suite reads (readiness/http.py MAX_REPLY_BYTES)."""
