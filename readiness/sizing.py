"""R2.3: is the on-premise server sized for Riva? The LAMP sizing rules applied to the CRM host's facts.

The memory rule is Apache's own tuning advice: the server must never swap, so every worker at
its typical size must fit in RAM minus what the operating system and the database need, with a
margin. Each rule is its own finding (subject), so a change ticket can cite exactly what to fix.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from .config import Settings, SizingRules
from .outcome import Outcome
from .server_facts import COLLECTOR, ServerFacts

MEMORY, CEILING, SERVER_LIMIT, KEEP_ALIVE, OPCACHE = (
    "memory", "worker ceiling", "ServerLimit", "KeepAliveTimeout", "opcode cache")
LONGEST_KEEP_ALIVE_S = 5  # Apache's default; 2-5 s is the usual advice for busy servers
_FIX_UNKNOWN = f"run {COLLECTOR} as a user who can read the web server's configuration, or fill the value in"


HOSTED = "does not apply: a hosted service, whose operator sizes the server (R2.3 applies to on-premise servers only)"


def skip_reason(hosted: bool, rules: SizingRules) -> str | None:
    """Why R2.3 is not judged in this run, or None when it is."""
    if hosted:
        return HOSTED
    if rules.facts is None:
        return (f"no server facts: run {COLLECTOR} on the CRM host and set READINESS_SERVER_FACTS to the file it "
                "writes")
    return None


def without_facts(settings: Settings) -> Outcome:
    """On-premise without the CRM host's facts: R2.3 applies but cannot be decided; what to check there by hand."""
    rules, needed = settings.sizing, settings.load_sessions + settings.sizing.interactive_users
    return Outcome.not_verifiable(
        f"{skip_reason(False, rules)} — or check by hand on the CRM host: MaxRequestWorkers (PHP-FPM: "
        f"pm.max_children) x the average PHP worker memory + {rules.margin_percent}% fits in RAM - "
        f"{rules.reserve_mb} MB; MaxRequestWorkers is at least {needed}; ServerLimit covers MaxRequestWorkers; "
        f"KeepAliveTimeout is at most {LONGEST_KEEP_ALIVE_S} s; OPcache is on")


def judge(settings: Settings) -> list[Outcome]:
    """One outcome per sizing rule, each with its own subject."""
    facts, rules = settings.sizing.facts, settings.sizing
    return [memory(facts, rules), ceiling(facts, settings), server_limit(facts), keep_alive(facts), opcache(facts)]


def _php_ceiling(facts: ServerFacts) -> tuple[str, int | None]:
    """The setting that caps how many PHP workers run at once: PHP-FPM's pool, or Apache's own workers."""
    if facts.php_handler == "php-fpm":
        return "pm.max_children", facts.php_fpm_max_children
    return "MaxRequestWorkers", facts.max_request_workers


def _unknown(subject: str, facts: ServerFacts, *names: str, advisory: bool = False) -> Outcome | None:
    missing = [facts.why_unknown(n) for n in names if getattr(facts, n) is None]
    if not missing:
        return None
    # The rule applies but this file cannot decide it: unverified (never passed), with what to do.
    return Outcome.not_verifiable(f"cannot be judged: {'; '.join(missing)} — {_FIX_UNKNOWN}", subject=subject,
                                  advisory=advisory)


@dataclass(frozen=True)
class MemoryBudget:
    """The memory rule's arithmetic, shared by its judgement and its chart."""

    setting: str  # the worker ceiling: MaxRequestWorkers or pm.max_children
    workers: int
    worker_mb: float  # the average worker's size, without the margin
    margin_percent: int
    ram_mb: int
    reserve_mb: int

    @property
    def per_worker_mb(self) -> float:
        return self.worker_mb * (1 + self.margin_percent / 100)

    @property
    def needed_mb(self) -> float:
        return self.workers * self.per_worker_mb

    @property
    def free_mb(self) -> int:
        return self.ram_mb - self.reserve_mb

    @property
    def fits(self) -> bool:
        return self.needed_mb <= self.free_mb


def memory_budget(facts: ServerFacts, rules: SizingRules) -> MemoryBudget | None:
    """None when a fact the rule needs is unknown."""
    name, workers = _php_ceiling(facts)
    if None in (workers, facts.worker_rss_avg_mb, facts.ram_mb):
        return None
    return MemoryBudget(name, workers, facts.worker_rss_avg_mb, rules.margin_percent, facts.ram_mb, rules.reserve_mb)


def memory(facts: ServerFacts, rules: SizingRules) -> Outcome:
    """Every worker at its average size, plus the margin, fits in RAM minus the reserve."""
    name, workers = _php_ceiling(facts)
    field = "php_fpm_max_children" if name == "pm.max_children" else "max_request_workers"
    unknown = _unknown(MEMORY, facts, field, "worker_rss_avg_mb")
    if unknown:
        return unknown
    budget = memory_budget(facts, rules)
    per_worker, needed, free = budget.per_worker_mb, budget.needed_mb, budget.free_mb
    sum_up = (f"{workers} workers ({name}) x {facts.worker_rss_avg_mb:g} MB (average of {facts.worker_count or '?'} "
              f"{facts.worker_process or 'worker'} processes) + {rules.margin_percent}% margin = {needed:.0f} MB; "
              f"RAM {facts.ram_mb} MB - {rules.reserve_mb} MB reserved for the system and database "
              f"(READINESS_MEMORY_RESERVE_MB) = {free} MB")
    if not budget.fits:
        fitting = max(math.floor(free / per_worker), 0) if free > 0 else 0
        return Outcome.fail(f"the workers do not fit in memory: {sum_up} — under full load the server swaps and "
                            f"requests time out; lower {name} to {fitting} or add memory", subject=MEMORY)
    return Outcome.ok(f"the workers fit in memory: {sum_up}", subject=MEMORY)


def ceiling(facts: ServerFacts, settings: Settings) -> Outcome:
    """Enough workers for Riva's sessions (threads x headroom) plus the people using the CRM."""
    rules = settings.sizing
    needed = settings.load_sessions + rules.interactive_users
    demand = (f"Riva's {settings.load_sessions} concurrent sessions ({settings.threads} threads x "
              f"{settings.load.headroom:g} headroom) plus {rules.interactive_users} interactive users "
              f"(READINESS_INTERACTIVE_USERS) = {needed}")
    limits = [("MaxRequestWorkers", "max_request_workers")]
    if facts.php_handler == "php-fpm":
        limits.append(("pm.max_children", "php_fpm_max_children"))
    unknown = _unknown(CEILING, facts, *(field for _, field in limits))
    if unknown:
        return unknown
    short = [f"{name} is {getattr(facts, field)}" for name, field in limits if getattr(facts, field) < needed]
    if short:
        return Outcome.fail(f"too few workers: {' and '.join(short)}, below {demand} — requests beyond it wait or "
                            f"are refused; raise it to at least {needed}", subject=CEILING)
    have = " and ".join(f"{name} {getattr(facts, field)}" for name, field in limits)
    return Outcome.ok(f"{have} cover{'s' if len(limits) == 1 else ''} {demand}", subject=CEILING)


def server_limit(facts: ServerFacts) -> Outcome:
    """Apache silently caps the workers at ServerLimit (times ThreadsPerChild for threaded MPMs)."""
    unknown = _unknown(SERVER_LIMIT, facts, "mpm", "max_request_workers", "server_limit")
    if unknown:
        return unknown
    if facts.mpm == "prefork":
        room, how = facts.server_limit, f"ServerLimit {facts.server_limit}"
    else:
        unknown = _unknown(SERVER_LIMIT, facts, "threads_per_child")
        if unknown:
            return unknown
        room = facts.server_limit * facts.threads_per_child
        how = f"ServerLimit {facts.server_limit} x ThreadsPerChild {facts.threads_per_child} = {room}"
    if room < facts.max_request_workers:
        return Outcome.fail(f"{how} is below MaxRequestWorkers {facts.max_request_workers} ({facts.mpm} MPM): Apache "
                            f"runs only {room} workers — raise ServerLimit to cover MaxRequestWorkers",
                            subject=SERVER_LIMIT)
    return Outcome.ok(f"{how} covers MaxRequestWorkers {facts.max_request_workers} ({facts.mpm} MPM)",
                      subject=SERVER_LIMIT)


def keep_alive(facts: ServerFacts) -> Outcome:
    """Advisory: an idle keep-alive connection holds a whole worker (prefork) for KeepAliveTimeout."""
    if facts.keep_alive is False:
        return Outcome.ok("KeepAlive is off: no worker waits on idle connections", subject=KEEP_ALIVE)
    unknown = _unknown(KEEP_ALIVE, facts, "keep_alive", "keep_alive_timeout_s", advisory=True)
    if unknown:
        return unknown
    if facts.keep_alive_timeout_s > LONGEST_KEEP_ALIVE_S:
        return Outcome.fail(f"KeepAliveTimeout is {facts.keep_alive_timeout_s:g} s: each idle connection holds a "
                            f"worker that long — set it to 2 to {LONGEST_KEEP_ALIVE_S} s", subject=KEEP_ALIVE,
                            advisory=True)
    return Outcome.ok(f"KeepAliveTimeout is {facts.keep_alive_timeout_s:g} s (at most {LONGEST_KEEP_ALIVE_S} s)",
                      subject=KEEP_ALIVE)


def opcache(facts: ServerFacts) -> Outcome:
    """Without an opcode cache every request compiles 1CRM's PHP again, holding its worker longer."""
    unknown = _unknown(OPCACHE, facts, "opcache")
    if unknown:
        return unknown
    if not facts.opcache:
        return Outcome.fail("PHP's opcode cache (OPcache) is off: every request compiles 1CRM's code again and holds "
                            "its worker longer — enable it (opcache.enable=1) for the web server's PHP",
                            subject=OPCACHE)
    return Outcome.ok("PHP's opcode cache (OPcache) is on", subject=OPCACHE)
