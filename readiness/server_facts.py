"""The server facts file that tools/collect-server-facts.sh writes on the CRM host (R2.3).

READINESS_SERVER_FACTS names it; it is read and checked with the settings, so a malformed file
stops the run in one line before any request. A fact the collector could not find is null, with
the reason under "unavailable".
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields
from pathlib import Path

from .errors import ConfigError

SCHEMA = "riva-readiness-server-facts/1"
COLLECTOR = "tools/collect-server-facts.sh"
MPMS = ("prefork", "worker", "event")
PHP_HANDLERS = ("mod_php", "php-fpm")


@dataclass(frozen=True)
class ServerFacts:
    """What the CRM host said about itself; None where the collector could not tell (see unavailable)."""

    ram_mb: int
    swap_mb: int | None
    swap_used_mb: int | None
    web_server: str | None
    mpm: str | None
    max_request_workers: int | None
    server_limit: int | None
    threads_per_child: int | None
    keep_alive: bool | None
    keep_alive_timeout_s: float | None
    php_handler: str | None
    php_fpm_max_children: int | None
    worker_process: str | None
    worker_count: int | None
    worker_rss_avg_mb: float | None
    worker_rss_p95_mb: float | None
    php_memory_limit_mb: int | None  # -1: no limit
    opcache: bool | None
    hostname: str | None = None
    collected_at: str | None = None
    unavailable: dict = field(default_factory=dict)
    source: str = ""

    def why_unknown(self, name: str) -> str:
        return f"{name} is unknown ({self.unavailable.get(name, 'no reason given')})"

    def as_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "source"}


def _count(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def _amount(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0


# Each fact, what its value must be, and how to say so.
_KINDS = {
    "ram_mb": (_count, "a whole number of MB"),
    "swap_mb": (_count, "a whole number of MB"),
    "swap_used_mb": (_count, "a whole number of MB"),
    "web_server": (lambda v: isinstance(v, str), "text"),
    "mpm": (lambda v: v in MPMS, f"one of {', '.join(MPMS)}"),
    "max_request_workers": (_count, "a whole number"),
    "server_limit": (_count, "a whole number"),
    "threads_per_child": (_count, "a whole number"),
    "keep_alive": (lambda v: isinstance(v, bool), "true or false"),
    "keep_alive_timeout_s": (_amount, "a number of seconds"),
    "php_handler": (lambda v: v in PHP_HANDLERS, f"one of {', '.join(PHP_HANDLERS)}"),
    "php_fpm_max_children": (_count, "a whole number"),
    "worker_process": (lambda v: isinstance(v, str), "text"),
    "worker_count": (_count, "a whole number"),
    "worker_rss_avg_mb": (_amount, "a number of MB"),
    "worker_rss_p95_mb": (_amount, "a number of MB"),
    "php_memory_limit_mb": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= -1,
                            "a whole number of MB, or -1 for no limit"),
    "opcache": (lambda v: isinstance(v, bool), "true or false"),
}
_ALWAYS_KNOWN = ("ram_mb",)  # /proc/meminfo is readable by everyone
MAX_DIGITS = 18  # no fact of a server needs more; the parser would choke on thousands


class _Unusable(ValueError):
    """A number no collector writes (thousands of digits, NaN, Infinity)."""


def _number(kind):
    def parse(text: str):
        if len(text.lstrip("-").replace(".", "").split("e")[0].split("E")[0]) > MAX_DIGITS:
            raise _Unusable(f"a number of {len(text)} characters")
        return kind(text)
    return parse


def _no_constant(name: str):
    raise _Unusable(f"{name} is not a number JSON allows")


def read_server_facts(path: Path, origin: str = "READINESS_SERVER_FACTS") -> ServerFacts:
    """Reads and checks the facts file; every problem is one ConfigError line with the fix."""
    fix = f"collect them again on the CRM host with {COLLECTOR}, or correct the file"
    where = f"{origin} ({path})"
    try:
        document = json.loads(path.read_text(encoding="utf-8-sig"), parse_int=_number(int),
                              parse_float=_number(float), parse_constant=_no_constant)
    except _Unusable as exc:
        raise ConfigError(f"{where}: {exc} — {fix}") from None
    except RecursionError:
        raise ConfigError(f"{where}: nested too deeply to be a server facts file — {fix}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{where}: not UTF-8 text — {fix}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{where}: not valid JSON (line {exc.lineno} column {exc.colno}: {exc.msg}) — {fix}") from None
    except OSError as exc:
        raise ConfigError(f"{where}: cannot be read ({exc.strerror})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise ConfigError(f"{where}: not a server facts file (\"schema\" must be \"{SCHEMA}\") — {fix}")
    unavailable = document.get("unavailable") or {}
    if not isinstance(unavailable, dict):
        raise ConfigError(f"{where}: \"unavailable\" must map a fact to the reason it is missing — {fix}")
    missing = [name for name in _KINDS if name not in document]
    if missing:
        raise ConfigError(f"{where}: missing {', '.join(missing)} — {fix}")
    values = {}
    for name, (valid, expected) in _KINDS.items():
        value = document[name]
        if value is None:
            if name in _ALWAYS_KNOWN or not unavailable.get(name):
                need = "cannot be null" if name in _ALWAYS_KNOWN else "is null without a reason under \"unavailable\""
                raise ConfigError(f"{where}: {name} {need} — {fix}")
        elif not valid(value):
            raise ConfigError(f"{where}: {name} is {json.dumps(value)}, not {expected} — {fix}")
        values[name] = value
    return ServerFacts(**values, hostname=_text(document.get("hostname")),
                       collected_at=_text(document.get("collected_at")),
                       unavailable={str(k): str(v) for k, v in unavailable.items()}, source=str(path))


def _text(value) -> str | None:
    return value if isinstance(value, str) else None
