"""Settings from the environment or a .env file (the real environment wins).

Every problem is reported as one ConfigError line naming where the value came from and how
to fix it, before the suite sends a single request.
"""

from __future__ import annotations

import difflib
import io
import math
import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import idna
from dotenv import find_dotenv
from dotenv.parser import parse_stream

from .errors import ConfigError, read_input_file
from .redaction import Redactor, proxy_credentials, url_without_password
from .server_facts import ServerFacts, read_server_facts
from .ldap_targets import SETTINGS as LDAP_SETTINGS
from .ldap_targets import DirectoryTargets, read_directory, source_from
from .targets import Target, read_targets
from .waivers import Attestation, Waiver, read_exceptions

# The public interface: other tools drive the suite through exactly these names.
SETTING_NAMES = (
    "CRM_URL",
    "CRM_USERNAME",
    "CRM_PASSWORD",
    "CRM_CLIENT_ID",
    "CRM_CLIENT_SECRET",
    "CRM_CA_BUNDLE",
    "CRM_PROXY",
    "CRM_TIMEOUT",
    "RIVA_TARGETS_FILE",
    *LDAP_SETTINGS,
    "RIVA_DATATYPES",
    "RIVA_THREADS",
    "READINESS_MODE",
    "READINESS_TIME_LIMIT",
    "READINESS_WAIVERS_FILE",
    "CHANGE_TICKET",
    "READINESS_TICKET_URL",
    "READINESS_ENV_FILE",
    "READINESS_BROWSER",
    "READINESS_CHROMIUM",
    "READINESS_CHROMEDRIVER",
    "READINESS_LOAD_SECONDS",
    "READINESS_LOAD_HEADROOM",
    "READINESS_LOAD_MAX_REQUESTS",
    "READINESS_LOAD_P95_MS",
    "READINESS_LOAD_P95_RATIO",
    "READINESS_SERVER_FACTS",
    "READINESS_MEMORY_RESERVE_MB",
    "READINESS_MEMORY_MARGIN",
    "READINESS_INTERACTIVE_USERS",
)
_OWN_PREFIXES = ("CRM_", "RIVA_", "READINESS_")
# A misspelt one of these would quietly run the suite less safely (writes in read-only mode, no time limit, the
# system's trust or no proxy): the run stops. Any other unknown name of ours is only warned about.
SAFETY_SETTINGS = ("READINESS_MODE", "READINESS_TIME_LIMIT", "CRM_CA_BUNDLE", "CRM_PROXY", "CRM_TIMEOUT",
                   "READINESS_WAIVERS_FILE", "READINESS_ENV_FILE")

# REST model names of the datatypes Riva syncs (1crm-api.md section 4): [known] for most; Call, Meeting and Email are
# [source] bean names, [assumed] to answer over REST (a 404 on one is "not verifiable", never a suite error).
DEFAULT_DATATYPES = ("Contact", "Lead", "Account", "Meeting", "Call", "Task", "Note", "Email", "Opportunity", "aCase")
KNOWN_DATATYPES = DEFAULT_DATATYPES + ("Project",)

# The placeholder values env.example ships with; R5.2 fails while they are still in place.
PLACEHOLDERS = {"CRM_USERNAME": "<connection-user>", "CRM_PASSWORD": "<connection-user-password>"}

DEMO_HINT = "copy env.example to .env and fill it in, or run the demo: python -m readiness demo"
MAX_LOAD_SESSIONS = 200  # the concurrency probe's thread pool never grows beyond this
MAX_NUMBER_LENGTH = 20  # characters of a numeric setting: longer is no number anyone means


@contextmanager
def reading(where: str, secrets: Redactor | None = None) -> Iterator[None]:
    """The settings boundary: any failure while reading one input is a ConfigError naming that input.

    Known problems raise their own ConfigError inside; this turns the unforeseen ones (a parser's
    error, too deep nesting, an unusable path) into the same one line, before any request (G4)."""
    try:
        yield
    except ConfigError:
        raise
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply to be read — write it as the README describes") from None
    except Exception as exc:  # noqa: BLE001 - the boundary: whatever went wrong, the input is at fault
        reason = " ".join(f"{type(exc).__name__}: {exc}".split())
        reason = (secrets or Redactor()).text(reason)
        reason = reason if len(reason) <= 120 else reason[:117] + "..."
        raise ConfigError(f"{where}: cannot be read ({reason}) — correct the value or the file") from None


class Secret:
    """A value that prints as *** everywhere; reveal() is the only way to read it."""

    __slots__ = ("_value",)

    def __init__(self, value: str):
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__


@dataclass(frozen=True)
class Credentials:
    """A user name and its password; safe to print (reports record step arguments by repr)."""

    username: str
    password: Secret


def is_placeholder(value: str | None) -> bool:
    text = (value or "").strip()
    return (text.startswith("<") and text.endswith(">")) or text.lower() in {"changeme", "change-me", "xxx"}


@dataclass(frozen=True)
class CrmAddress:
    """CRM_URL as configured, and the base address the suite works against."""

    configured: str
    base: str
    scheme: str
    host: str
    port: int
    problems: tuple[str, ...] = ()  # reasons the configured value is not what Riva's wizard needs (R5.1)

    @property
    def is_https(self) -> bool:
        return self.scheme == "https"

    def join(self, path: str) -> str:
        return f"{self.base}/{path.lstrip('/')}"


BROWSER_MODES = ("auto", "required", "off")


@dataclass(frozen=True)
class BrowserSettings:
    """Which browser R1.4 signs in with: auto (a browser if one is found), required, or off (scripted)."""

    mode: str = "auto"
    chromium: Path | None = None  # Chrome, Chromium or Edge; None: look on PATH
    chromedriver: Path | None = None  # its matching driver; None: look on PATH


@dataclass(frozen=True)
class LoadLimits:
    """R2.2: how long and how hard the concurrency probe may push, and the latency it must show."""

    seconds: float = 20.0
    headroom: float = 2.0  # sessions = Riva threads x headroom
    max_requests: int = 1000
    p95_ms: int = 2000
    p95_ratio: float = 3.0  # p95 under load / p95 idle


@dataclass(frozen=True)
class SizingRules:
    """R2.3: the CRM host's facts, and the reserve and margin the memory arithmetic keeps."""

    facts: ServerFacts | None = None
    reserve_mb: int = 2048  # for the operating system and the database
    margin_percent: int = 20
    interactive_users: int = 10  # people using the CRM at the same time at peak


@dataclass(frozen=True)
class Settings:
    crm: CrmAddress
    username: str | None
    password: Secret | None
    client_id: str | None
    client_secret: Secret | None
    ca_bundle: Path | None
    proxy: str | None
    timeout: float
    targets_file: Path | None
    targets: tuple[Target, ...]
    datatypes: tuple[str, ...]
    threads: int
    mode: str
    change_ticket: str | None
    waivers_file: Path | None = None
    waivers: tuple[Waiver, ...] = ()
    attestations: tuple[Attestation, ...] = ()  # the same file's manual checks (G7)
    ticket_url: str | None = None  # the change ticket's address, from READINESS_TICKET_URL
    time_limit: float = 900.0  # seconds the whole run may take (READINESS_TIME_LIMIT)
    origins: Mapping[str, str] = field(default_factory=dict, repr=False)
    secrets: tuple[str, ...] = field(default=(), repr=False)  # every secret value, for the redactor
    probe_passwords: Mapping[str, str] = field(default_factory=dict, repr=False)  # password_env -> password
    browser: BrowserSettings = field(default_factory=BrowserSettings)
    load: LoadLimits = field(default_factory=LoadLimits)
    sizing: SizingRules = field(default_factory=SizingRules)
    directory: DirectoryTargets | None = None  # the targets as read from RIVA_TARGETS_LDAP_URL, with its findings
    notices: tuple[str, ...] = ()  # what the admin should know about the settings (unknown names), said at the start

    def __repr__(self) -> str:
        # Reports record step arguments by repr: only what the connection sheet may show, never a secret.
        return (f"Settings(crm={self.crm.base!r}, username={self.username!r}, mode={self.mode!r}, "
                f"proxy={url_without_password(self.proxy)!r}, targets={len(self.targets)})")

    def probe_password(self, password_env: str) -> str:
        return self.probe_passwords[password_env]

    @property
    def load_sessions(self) -> int:
        """The concurrency Riva brings, with headroom: the concurrency probe's session count."""
        return math.ceil(self.threads * self.load.headroom)

    @property
    def read_only(self) -> bool:
        return self.mode == "read-only"

    @property
    def uses_oauth(self) -> bool:
        return bool(self.client_id and self.client_secret)

    @property
    def connection_user(self) -> Credentials | None:
        """The Riva connection user, unless a name or password is missing or a placeholder (R5.2)."""
        name, password = self.username, self.password.reveal() if self.password else None
        if not name or not password or is_placeholder(name) or is_placeholder(password):
            return None
        return Credentials(name, self.password)

    @property
    def tls_verify(self) -> str | bool:
        return str(self.ca_bundle) if self.ca_bundle else True


def load_settings(environ: Mapping[str, str] | None = None, env_file: Path | None = None) -> Settings:
    """Reads and validates every setting; raises ConfigError with one actionable line."""
    environ = os.environ if environ is None else environ
    with reading("the settings"):  # the last resort; each input has its own reading() inside
        if env_file is None:
            env_file = env_file_from(environ)
        with reading(str(env_file)):
            file_values = read_env_file(env_file) if env_file else {}
        return _Reader(environ, file_values, env_file).settings()


def env_file_from(environ: Mapping[str, str]) -> Path | None:
    """READINESS_ENV_FILE names the file (`none`: read none); else .env from here upward."""
    chosen = environ.get("READINESS_ENV_FILE", "").strip()
    if chosen.lower() == "none":
        return None
    if chosen:
        if not Path(chosen).is_file():
            raise ConfigError(f"environment variable READINESS_ENV_FILE: no such file '{chosen}' — give the path of "
                              "your .env file, or none")
        return Path(chosen)
    found = find_dotenv(usecwd=True)
    return Path(found) if found else None


def read_env_file(path: Path) -> dict[str, tuple[str, int]]:
    """KEY -> (value, line) from a .env file; a line python-dotenv cannot parse is an error."""
    text = read_input_file(path)
    values: dict[str, tuple[str, int]] = {}
    for binding in parse_stream(io.StringIO(text)):
        line = binding.original.line
        if binding.error:
            # Show only what precedes '=': the rest of a broken line may be a password.
            head = binding.original.string.strip().split("=", 1)[0][:40]
            raise ConfigError(
                f"{path}:{line}: cannot read '{head}…' — write KEY=value, quoting values that contain "
                "spaces, quotes or #"
            )
        if binding.key is None:
            continue
        if binding.key.startswith(_OWN_PREFIXES) and binding.key not in SETTING_NAMES:
            raise ConfigError(f"{path}:{line}: unknown setting {binding.key}{_suggest(binding.key, SETTING_NAMES)}")
        values[binding.key] = (binding.value or "", line)
    return values


def _closest(name: str) -> str:
    close = difflib.get_close_matches(name, SETTING_NAMES, n=1)
    return f" — did you mean {close[0]}?" if close else ""


def _suggest(word: str, choices) -> str:
    close = difflib.get_close_matches(word, list(choices), n=1)
    return f" — did you mean {close[0]}?" if close else f" — known settings: {', '.join(choices)}"


class _Reader:
    """Resolves each setting to a value and remembers where it came from."""

    def __init__(self, environ: Mapping[str, str], file_values: dict[str, tuple[str, int]], env_file: Path | None):
        self.environ = environ
        self.file_values = file_values
        self.env_file = env_file
        self.origins: dict[str, str] = {}
        self.secrets = Redactor()  # the secrets read so far: an error message never shows them

    def reading(self, name: str, path: Path | None = None):
        return reading(f"{self.where(name)}" + (f" ({path})" if path else ""), self.secrets)

    def lookup(self, name: str) -> str | None:
        """Any variable (settings and probe users' password variables); the environment wins."""
        if self.environ.get(name, "").strip():
            self.origins[name] = f"environment variable {name}"
            return self.environ[name].strip()
        if name in self.file_values and self.file_values[name][0].strip():
            value, line = self.file_values[name]
            self.origins[name] = f"{self.env_file}:{line}: {name}"
            return value.strip()
        return None

    def where(self, name: str) -> str:
        return self.origins.get(name, name)

    def path(self, name: str) -> Path | None:
        value = self.lookup(name)
        if value is None:
            return None
        with self.reading(name):
            path = Path(value).expanduser()
            if not path.is_absolute() and self.origins[name].startswith(str(self.env_file)):
                path = self.env_file.parent / path  # relative to the .env file that names it
            if not path.is_file():
                raise ConfigError(f"{self.where(name)}: no such file '{value[:200]}' — give the path of an existing file")
        return path

    def number(self, name: str, default, lowest, highest, kind=int):
        value = self.lookup(name)
        if value is None:
            return default
        try:
            number = kind(value) if len(value) <= MAX_NUMBER_LENGTH else None
        except ValueError:
            number = None
        if number is None or not lowest <= number <= highest:
            shown = value if len(value) <= 40 else f"{value[:20]}… ({len(value)} characters)"
            raise ConfigError(f"{self.where(name)}={shown!r} — use a number from {lowest} to {highest}")
        return number

    def file(self, name: str, read):
        """The parsed contents of the file a setting names (None if unset); any failure names both."""
        path = self.path(name)
        if path is None:
            return None, None
        with self.reading(name, path):
            return path, read(path)

    def unknown_names(self) -> list[str]:
        """Environment variables named like our settings that are none of them (a probe user's password variable
        may not be named so): a typo the environment, unlike the .env file, would otherwise let pass silently."""
        return sorted(name for name in self.environ if name.startswith(_OWN_PREFIXES) and name not in SETTING_NAMES)

    def stop_on_misspelt_safety_setting(self) -> None:
        for name in self.unknown_names():
            close = difflib.get_close_matches(name, SETTING_NAMES, n=1)
            if close and close[0] in SAFETY_SETTINGS:
                raise ConfigError(f"environment variable {name} is not a setting — did you mean {close[0]}? Unset "
                                  f"{name} and set {close[0]}: the run stops rather than ignore a safety setting")

    def settings(self) -> Settings:
        self.stop_on_misspelt_safety_setting()
        url = self.lookup("CRM_URL")
        if url is None:
            raise ConfigError(f"CRM_URL is not set — {DEMO_HINT}")
        secrets: list[str] = []
        password = self.lookup("CRM_PASSWORD")
        client_secret = self.lookup("CRM_CLIENT_SECRET")
        secrets += [s for s in (password, client_secret) if s]
        self.secrets.add(*secrets)
        with self.reading("CRM_URL"):
            crm = parse_crm_address(url, self.where("CRM_URL"))
        client_id = self.lookup("CRM_CLIENT_ID")
        if bool(client_id) != bool(client_secret):
            missing = "CRM_CLIENT_SECRET" if client_id else "CRM_CLIENT_ID"
            raise ConfigError(f"{missing} is not set — an OAuth2 API client needs both CRM_CLIENT_ID and CRM_CLIENT_SECRET")
        proxy = self.lookup("CRM_PROXY")
        if proxy:
            self.secrets.add(*_proxy_secrets_unchecked(proxy))
            with self.reading("CRM_PROXY"):
                secrets += _proxy_secrets(proxy, self.where("CRM_PROXY"))
        waivers_file, exceptions = self.file("READINESS_WAIVERS_FILE", read_exceptions)
        waivers, attestations = exceptions or ((), ())
        change_ticket = self.lookup("CHANGE_TICKET")
        targets_file, targets, directory = self.targets(secrets)
        probe_passwords = {t.password_env: self.lookup(t.password_env) for t in targets if t.password_env}
        secrets += probe_passwords.values()
        self.secrets.add(*probe_passwords.values())
        settings = Settings(
            crm=crm,
            username=self.lookup("CRM_USERNAME"),
            password=Secret(password) if password else None,
            client_id=client_id,
            client_secret=Secret(client_secret) if client_secret else None,
            ca_bundle=self.path("CRM_CA_BUNDLE"),
            proxy=proxy,
            timeout=self.number("CRM_TIMEOUT", 15.0, 1, 300, float),
            targets_file=targets_file,
            targets=targets,
            datatypes=self.datatypes(),
            threads=self.number("RIVA_THREADS", 3, 1, 100),
            mode=self.mode(),
            change_ticket=change_ticket,
            waivers_file=waivers_file,
            waivers=waivers,
            attestations=attestations,
            ticket_url=self.ticket_url(change_ticket),
            browser=self.browser(),  # before origins: its lookups record where they came from
            time_limit=self.number("READINESS_TIME_LIMIT", 900.0, 1, 86400, float),
            origins=dict(self.origins),
            secrets=tuple(secrets),
            probe_passwords=probe_passwords,
            load=self.load_limits(),
            sizing=self.sizing_rules(),
            directory=directory,
            notices=tuple(f"environment variable {name} is not a setting and is ignored{_closest(name)}"
                          for name in self.unknown_names()),
        )
        if settings.load_sessions > MAX_LOAD_SESSIONS:
            raise ConfigError(f"RIVA_THREADS x READINESS_LOAD_HEADROOM is {settings.load_sessions} concurrent sessions "
                              f"— the concurrency probe runs at most {MAX_LOAD_SESSIONS}; lower the headroom")
        return settings

    def targets(self, secrets: list[str]) -> tuple[Path | None, tuple[Target, ...], DirectoryTargets | None]:
        """The targets file; with RIVA_TARGETS_LDAP_URL the directory decides who the targets are, and the file's
        rows only add their password_env (joined by address). The directory is read here, before any request."""
        targets_file, targets = self.file("RIVA_TARGETS_FILE", lambda path: read_targets(path, self.lookup))
        targets = targets or ()
        source = source_from(self.lookup, self.where, self.path, timeout=self.number("CRM_TIMEOUT", 15.0, 1, 300, float),
                             total=self.number("READINESS_TIME_LIMIT", 900.0, 1, 86400, float))
        if source is None:
            return targets_file, targets, None
        if source.password:
            secrets.append(source.password)
            self.secrets.add(source.password)
        with self.reading("RIVA_TARGETS_LDAP_URL"):
            directory = read_directory(source, targets)
        return targets_file, directory.targets, directory

    def load_limits(self) -> LoadLimits:
        d = LoadLimits()
        return LoadLimits(
            seconds=self.number("READINESS_LOAD_SECONDS", d.seconds, 0.5, 600, float),
            headroom=self.number("READINESS_LOAD_HEADROOM", d.headroom, 1, 10, float),
            max_requests=self.number("READINESS_LOAD_MAX_REQUESTS", d.max_requests, 10, 100_000),
            p95_ms=self.number("READINESS_LOAD_P95_MS", d.p95_ms, 10, 60_000),
            p95_ratio=self.number("READINESS_LOAD_P95_RATIO", d.p95_ratio, 1, 100, float),
        )

    def sizing_rules(self) -> SizingRules:
        d = SizingRules()
        _, facts = self.file("READINESS_SERVER_FACTS",
                             lambda path: read_server_facts(path, self.where("READINESS_SERVER_FACTS")))
        return SizingRules(
            facts=facts,
            reserve_mb=self.number("READINESS_MEMORY_RESERVE_MB", d.reserve_mb, 0, 1_048_576),
            margin_percent=self.number("READINESS_MEMORY_MARGIN", d.margin_percent, 0, 100),
            interactive_users=self.number("READINESS_INTERACTIVE_USERS", d.interactive_users, 0, 10_000),
        )

    def datatypes(self) -> tuple[str, ...]:
        value = self.lookup("RIVA_DATATYPES")
        if value is None:
            return DEFAULT_DATATYPES
        by_lower = {name.lower(): name for name in KNOWN_DATATYPES}
        chosen: list[str] = []
        for item in filter(None, (part.strip() for part in value.split(","))):
            if item.lower() not in by_lower:
                raise ConfigError(
                    f"{self.where('RIVA_DATATYPES')}: '{item}' is not a 1CRM model{_suggest(item, KNOWN_DATATYPES)}"
                )
            if by_lower[item.lower()] not in chosen:
                chosen.append(by_lower[item.lower()])
        if not chosen:
            raise ConfigError(f"{self.where('RIVA_DATATYPES')} is empty — list models, e.g. Contact,Meeting")
        return tuple(chosen)

    def ticket_url(self, ticket: str | None) -> str | None:
        """READINESS_TICKET_URL is a pattern such as https://jira.example.com/browse/{}; {} becomes the ticket."""
        pattern = self.lookup("READINESS_TICKET_URL")
        if pattern is None:
            return None
        with self.reading("READINESS_TICKET_URL"):
            parts = urlsplit(pattern)
            usable = parts.hostname and not host_problem(parts.hostname)
        if parts.scheme not in ("http", "https") or not usable or pattern.count("{}") != 1:
            raise ConfigError(f"{self.where('READINESS_TICKET_URL')}={pattern!r} — write an http(s) address with {{}} "
                              "where the ticket goes, e.g. https://jira.example.com/browse/{}")
        return pattern.replace("{}", quote(ticket, safe="")) if ticket else None

    def browser(self) -> BrowserSettings:
        mode = (self.lookup("READINESS_BROWSER") or "auto").lower()
        if mode not in BROWSER_MODES:
            raise ConfigError(f"{self.where('READINESS_BROWSER')}={mode!r} — use auto, required or off")
        if mode == "off":
            return BrowserSettings(mode)  # the paths are not used, so not checked either
        return BrowserSettings(mode, self.path("READINESS_CHROMIUM"), self.path("READINESS_CHROMEDRIVER"))

    def mode(self) -> str:
        value = (self.lookup("READINESS_MODE") or "full").lower()
        if value not in ("full", "read-only"):
            raise ConfigError(f"{self.where('READINESS_MODE')}={value!r} — use full or read-only")
        return value


def parse_crm_address(value: str, origin: str = "CRM_URL") -> CrmAddress:
    """Normalises CRM_URL to the base address; rejects what no HTTP client could use."""
    if any(ch.isspace() for ch in value):
        raise ConfigError(f"{origin}: the address contains spaces — write it as https://host/path")
    if "://" not in value:
        raise ConfigError(f"{origin}={value!r} has no scheme — write it as https://{value}")
    try:
        parts = urlsplit(value)
    except ValueError:  # an unbalanced [ or ] of an IPv6 literal
        raise ConfigError(f"{origin}: the address has an unbalanced '[' or ']' — write an IPv6 address as "
                          "https://[2001:db8::1]/path, or a host name without brackets") from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise ConfigError(f"{origin}: '{scheme}://' is not supported — 1CRM is reached over https:// (or http://)")
    try:
        host, port = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(f"{origin}: the port in {value!r} is not a number from 1 to 65535") from None
    if not host:
        raise ConfigError(f"{origin}={value!r} names no host — write it as https://crm.example.com")
    problem = host_problem(host)
    if problem:
        raise ConfigError(f"{origin}: the host name {host!r} is not a usable internet name ({problem}) — check "
                          "its spelling, or give the address's xn-- form")
    problems = []
    if parts.username or parts.password:
        problems.append("it contains a user name or password; give Riva the address alone")
    segments = [s for s in parts.path.split("/") if s]
    if segments and segments[-1].lower().endswith(".php"):
        problems.append(f"it points at the page '{segments.pop()}' rather than the login window's folder")
    if parts.query or parts.fragment:
        problems.append("it has a query or fragment (?…/#…); give the plain address")
    netloc = host if ":" not in host else f"[{host}]"
    if port:
        netloc += f":{port}"
    base = urlunsplit((scheme, netloc, "/".join([""] + segments), "", ""))
    return CrmAddress(
        configured=_without_credentials(value, parts),
        base=base,
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        problems=tuple(problems),
    )


def _without_credentials(value: str, parts) -> str:
    if parts.username or parts.password:
        return value.replace(parts.netloc.rsplit("@", 1)[0] + "@", "***@", 1)
    return value


def host_problem(host: str) -> str | None:
    """Why a host name cannot be looked up or connected to, or None. Checked as the socket layer
    (Python's idna codec) and requests (IDNA 2008 with UTS 46) will encode it, so that neither fails
    later, mid-run."""
    if ":" in host:
        return None  # an IPv6 literal; urlsplit checked its brackets
    if any(not ch.isprintable() or ch.isspace() for ch in host):
        return "it contains a control character or space"
    try:
        host.encode("idna")
        if not host.isascii():
            idna.encode(host, uts46=True)
    except (UnicodeError, idna.IDNAError) as exc:
        return str(exc)[:80] or "not valid IDNA"
    return None


def _proxy_secrets_unchecked(proxy: str) -> list[str]:
    """The proxy's password as written and as requests decodes it, before the address is validated."""
    userinfo = proxy.partition("://")[2].rpartition("@")[0]
    written = userinfo.partition(":")[2]
    decoded = proxy_credentials(proxy)
    return [s for s in (written, decoded[1] if decoded else None) if s]


def _proxy_secrets(proxy: str, origin: str) -> list[str]:
    try:
        parts = urlsplit(proxy)
        hostname, _ = parts.hostname, parts.port
    except ValueError:
        raise ConfigError(f"{origin}: the proxy address has an unbalanced '[' or ']' or a port that is not a number "
                          "from 1 to 65535 — write it as http://proxy:3128") from None
    if parts.scheme not in ("http", "https") or not hostname:
        raise ConfigError(f"{origin}: the proxy must be an http:// or https:// address, e.g. http://proxy:3128")
    problem = host_problem(hostname)
    if problem:
        raise ConfigError(f"{origin}: the proxy's host name is not a usable internet name ({problem}) — check its "
                          "spelling")
    secrets = _proxy_secrets_unchecked(proxy)
    credentials = proxy_credentials(proxy)
    if credentials:
        secrets.append(f"{credentials[0]}:{credentials[1]}")  # and so its Basic form (Proxy-Authorization)
    return secrets
