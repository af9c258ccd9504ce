"""Keeps secrets out of every report, attachment, log and message (G3): one masking policy per run.

One Redactor is shared by the run, the pytest plugin and the HTTP evidence log, so whatever one of
them learns (a token the server issued, a probe user's password) is masked by all of them. It knows
two kinds of secret:

- configured ones (passwords, the client secret, the proxy password), whatever their length, and
- credentials seen on the wire (access and refresh tokens, Set-Cookie values, CSRF tokens, the
  credentials of Authorization headers), from 6 characters up: shorter server values are not
  credentials, and masking them would only blind the evidence.

Each is masked in the forms it travels in: as written, URL-encoded (quote and quote_plus), JSON-escaped,
base64 (standard and URL-safe), and for user:password pairs the Basic credentials.

One Redactor per process: under pytest-xdist each worker masks what it was configured with and what it
saw on the wire itself; a credential issued to another worker's sessions is not known to it.

Masking strategy, chosen to stay readable: a form of 4 characters or more is masked wherever it
appears, even inside a word; a shorter one (a 1-3 character password) is masked only where it stands
as a whole word, i.e. not next to a letter or digit. So the password "ab" is masked in
`password=ab&user=x`, `"ab"` and `riva_svc:ab`, but the word "about" stays readable. (A short password
that is also an ordinary word, e.g. "in", is masked wherever that word stands alone.)
"""

from __future__ import annotations

import base64
import json
import re
import threading
from pathlib import Path
from urllib.parse import quote, quote_plus, unquote, unquote_plus, urlsplit

MASK = "***"

SENSITIVE_KEYS = frozenset(
    {
        "password",
        "user_password",
        "client_secret",
        "access_token",
        "refresh_token",
        "id_token",
        "authorization",
        "proxy-authorization",
        "cookie",
        "set-cookie",
        "x-onecrm-csrf-token",
    }
)

SHORT = 4  # forms shorter than this are masked as whole words only
MIN_LEARNT_LENGTH = 6  # a server's value shorter than this is no credential
_ALNUM = r"[^\W_]"  # a letter or digit, in any script
# A token cut short by an excerpt ("...Bearer eyJ0eXAiOi") is still masked: a run of token characters of at
# least CUT characters that begins a learnt credential of at least CUT_SECRET characters.
CUT, CUT_SECRET = 12, 16
_TOKEN_RUN = re.compile(r"[A-Za-z0-9._~+/=%-]{" + str(CUT) + ",}")


def encoded_forms(value: str) -> set[str]:
    """The forms a secret travels in: raw, URL-encoded, JSON-escaped, base64."""
    forms = {value, quote(value, safe=""), quote_plus(value), quote(value),
             json.dumps(value)[1:-1], json.dumps(value, ensure_ascii=False)[1:-1]}
    raw = value.encode("utf-8", "surrogatepass")
    for b64 in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
        forms.add(b64)
        if len(b64.rstrip("=")) >= SHORT:
            forms.add(b64.rstrip("="))  # JWT-style, without padding
    return {f for f in forms if f}


class Redactor:
    """The run's one masking policy; thread-safe (the concurrency probe teaches it from many threads)."""

    def __init__(self, *secrets: str | None) -> None:
        self._long: set[str] = set()
        self._short: set[str] = set()
        self._heads: dict[str, set[str]] = {}  # first CUT characters -> the long secrets beginning so
        self._lock = threading.Lock()
        self._compiled: tuple[list[str], re.Pattern | None] | None = None
        self.add(*secrets)

    def __repr__(self) -> str:
        return f"Redactor({len(self._long) + len(self._short)} forms)"  # never the secrets themselves

    # -- what it knows ---------------------------------------------------------------------------

    def add(self, *values: str | None, cut: bool = False) -> None:
        """Registers configured secrets (any length) with their encoded forms."""
        with self._lock:
            for value in values:
                if value and str(value) not in self._long and str(value) not in self._short:
                    for form in encoded_forms(str(value)):
                        (self._long if len(form) >= SHORT else self._short).add(form)
                        if cut and len(form) >= CUT_SECRET:
                            self._heads.setdefault(form[:CUT], set()).add(form)
                    self._compiled = None  # only when something new was learnt: every reply teaches

    def learn(self, *values: str | None) -> None:
        """Registers credentials seen on the wire (tokens, cookies) from MIN_LEARNT_LENGTH characters; a
        long one is also masked where an excerpt cut it short (a configured user:password pair is not:
        its beginning is only the user name)."""
        self.add(*(v for v in values if v and len(str(v)) >= MIN_LEARNT_LENGTH), cut=True)

    def add_basic_credentials(self, username: str, password: str) -> None:
        """user:password and its Basic form (the base64 of the pair never contains the password's base64)."""
        self.add(password, f"{username}:{password}")

    def learn_authorization(self, header: str | None) -> None:
        """The credentials of an Authorization header: a bearer token, or Basic user:password."""
        scheme, _, credentials = (header or "").strip().partition(" ")
        credentials = credentials.strip()
        if not credentials:
            return
        self.learn(credentials)
        if scheme.lower() == "basic":
            try:
                pair = base64.b64decode(credentials, validate=True).decode("utf-8")
            except ValueError:
                return
            user, _, password = pair.partition(":")
            if password:
                self.add(password, pair)

    # -- masking ---------------------------------------------------------------------------------

    def _patterns(self) -> tuple[list[str], re.Pattern | None]:
        with self._lock:
            if self._compiled is None:
                longest_first = sorted(self._long, key=len, reverse=True)
                short = sorted(self._short, key=len, reverse=True)
                pattern = re.compile(
                    f"(?<!{_ALNUM})(?:{'|'.join(map(re.escape, short))})(?!{_ALNUM})") if short else None
                self._compiled = (longest_first, pattern)
            return self._compiled

    def text(self, value) -> str:
        # A str subclass (an Enum such as Allure's severity) is masked as the text it stands for.
        value = "" if value is None else str.__str__(value) if isinstance(value, str) else str(value)
        longest_first, short = self._patterns()
        for secret in longest_first:
            if secret in value:
                value = value.replace(secret, MASK)
        if self._heads:
            value = _TOKEN_RUN.sub(self._cut_secret, value)
        return short.sub(MASK, value) if short is not None else value

    def _cut_secret(self, run: re.Match) -> str:
        text = run.group(0)
        for start in range(len(text) - CUT + 1):  # the cut token may follow other token characters (a=...)
            candidates = self._heads.get(text[start:start + CUT])
            if candidates and any(secret.startswith(text[start:]) for secret in candidates):
                return text[:start] + MASK
        return text

    def reveals(self, value: str) -> bool:
        """True if the text holds a secret, by the same policy as text()."""
        return self.text(value) != value

    def mapping(self, data):
        """A deep copy of JSON-like data with sensitive keys masked and secrets scrubbed (keys too)."""
        if isinstance(data, dict):
            return {self.text(k) if isinstance(k, str) else k:
                    MASK if str(k).lower() in SENSITIVE_KEYS else self.mapping(v) for k, v in data.items()}
        if isinstance(data, (list, tuple)):
            return [self.mapping(v) for v in data]
        if isinstance(data, str):
            return self.text(data)
        return data

    def write_text(self, path: Path, text: str, **kwargs) -> None:
        """Every text file the suite writes goes through here."""
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(self.text(text), encoding="utf-8", **kwargs)


# A query parameter whose name says it may carry a credential: its value is never shown in evidence.
_CREDENTIAL_NAME = re.compile(r"pass|pwd|secret|token|auth|sess|sid|key|code|csrf|ticket|sig", re.IGNORECASE)


def url_for_evidence(url: str) -> str:
    """A page's address as a caption may show it: no user info, the value of every query parameter whose name
    suggests a credential (token, session, password, key, code ...) masked, and any fragment masked."""
    parts = urlsplit(url)
    pieces = []
    for piece in parts.query.split("&") if parts.query else ():
        name, equals, _ = piece.partition("=")
        pieces.append(f"{name}={MASK}" if equals and _CREDENTIAL_NAME.search(unquote_plus(name)) else piece)
    host = parts.netloc.rpartition("@")[2]
    shown = f"{parts.scheme}://{host}{parts.path}" if parts.scheme else f"{host}{parts.path}"
    return shown + (f"?{'&'.join(pieces)}" if pieces else "") + (f"#{MASK}" if parts.fragment else "")


def url_without_password(url: str | None, shown: str = MASK) -> str | None:
    """A proxy address as it may be shown: the user name stays, the password is `shown` instead."""
    if not url or "@" not in url:
        return url
    scheme, sep, rest = url.partition("://")
    userinfo, _, hostpart = rest.rpartition("@")
    user = userinfo.split(":", 1)[0]
    return f"{scheme}{sep}{user + ':' + shown if ':' in userinfo and shown else user}@{hostpart}"


def proxy_credentials(url: str | None) -> tuple[str, str] | None:
    """(user, password) of a proxy address, decoded as requests decodes them for Proxy-Authorization."""
    if not url or "@" not in url:
        return None
    userinfo = url.partition("://")[2].rpartition("@")[0]
    user, _, password = userinfo.partition(":")
    return (unquote(user), unquote(password)) if password else None
