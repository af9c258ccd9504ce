"""R2.3: the server facts file is checked before any request, and each sizing rule gives its own verdict."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import pytest

from readiness import sizing
from readiness.config import load_settings
from readiness.errors import ConfigError

FACTS = Path(__file__).parents[1] / "data" / "server-facts"
BASE = {"CRM_URL": "https://crm.example.com", "READINESS_ENV_FILE": "none"}


def settings_for(facts: str | Path, **env):
    return load_settings({**BASE, "READINESS_SERVER_FACTS": str(FACTS / facts), **env})


def verdicts(facts: str, **env) -> dict[str, tuple[bool, bool]]:
    """subject -> (passed, advisory)"""
    return {o.subject: (o.passed, o.advisory) for o in sizing.judge(settings_for(facts, **env))}


ALL_PASS = {subject: (True, False) for subject in
            (sizing.MEMORY, sizing.CEILING, sizing.SERVER_LIMIT, sizing.KEEP_ALIVE, sizing.OPCACHE)}


@pytest.mark.parametrize(
    "facts, failing",
    [
        ("fits.json", {}),
        ("php-fpm-event.json", {}),
        ("does-not-fit.json", {sizing.MEMORY: (False, False)}),
        ("too-few-workers.json", {sizing.CEILING: (False, False)}),
        ("prefork-server-limit-low.json", {sizing.SERVER_LIMIT: (False, False)}),
        ("long-keep-alive.json", {sizing.KEEP_ALIVE: (False, True)}),  # advisory
        ("no-opcache.json", {sizing.OPCACHE: (False, False)}),
    ],
)
def test_each_sizing_rule_fails_only_on_its_own_misconfiguration(facts, failing):
    assert verdicts(facts) == {**ALL_PASS, **failing}


def test_the_memory_arithmetic_is_shown_and_suggests_a_ceiling_that_fits():
    [memory] = [o for o in sizing.judge(settings_for("does-not-fit.json")) if o.subject == sizing.MEMORY]
    # 150 x 72.5 MB x 1.2 = 13050 MB > 8192 - 2048 = 6144 MB; 6144 / 87 MB = 70 workers fit.
    assert "150 workers (MaxRequestWorkers) x 72.5 MB (average of 24 apache2 processes) + 20% margin = 13050 MB" \
        in memory.message
    assert "RAM 8192 MB - 2048 MB reserved" in memory.message and "= 6144 MB" in memory.message
    assert "lower MaxRequestWorkers to 70 or add memory" in memory.message


def test_reserve_margin_and_interactive_users_are_configurable():
    assert verdicts("fits.json", READINESS_MEMORY_RESERVE_MB="4096")[sizing.MEMORY] == (False, False)
    assert verdicts("fits.json", READINESS_MEMORY_MARGIN="50")[sizing.MEMORY] == (False, False)
    assert verdicts("fits.json", READINESS_INTERACTIVE_USERS="55")[sizing.CEILING] == (False, False)
    assert verdicts("fits.json", RIVA_THREADS="11", READINESS_LOAD_HEADROOM="5")[sizing.CEILING] == (False, False)


def test_php_fpm_is_sized_by_its_pool_not_by_apaches_threads():
    [memory] = [o for o in sizing.judge(settings_for("php-fpm-event.json")) if o.subject == sizing.MEMORY]
    assert "40 workers (pm.max_children) x 55 MB" in memory.message
    assert "ServerLimit 16 x ThreadsPerChild 25 = 400" in sizing.server_limit(settings_for("php-fpm-event.json")
                                                                              .sizing.facts).message


def test_unknown_facts_are_unverified_with_the_collectors_reason():
    outcomes = {o.subject: o for o in sizing.judge(settings_for("apache-unreadable.json"))}
    assert not outcomes[sizing.MEMORY].passed and not outcomes[sizing.MEMORY].verifiable
    assert "max_request_workers is unknown (apache2ctl -V failed: Permission denied)" in outcomes[sizing.MEMORY].message
    assert outcomes[sizing.KEEP_ALIVE].advisory and not outcomes[sizing.KEEP_ALIVE].passed
    assert outcomes[sizing.OPCACHE].passed


def test_keep_alive_off_needs_no_timeout():
    facts = settings_for("long-keep-alive.json").sizing.facts
    assert sizing.keep_alive(replace(facts, keep_alive=False)).passed


def test_hosted_servers_and_runs_without_facts_skip_with_the_reason():
    with_facts = settings_for("fits.json").sizing
    assert "hosted service" in sizing.skip_reason(True, with_facts)
    assert "READINESS_SERVER_FACTS" in sizing.skip_reason(False, load_settings(BASE).sizing)
    assert sizing.skip_reason(False, with_facts) is None


# -- the facts file is part of the configuration gate ---------------------------------------------------


def facts_file(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "facts.json"
    path.write_text(text, encoding="utf-8")
    return path


def good() -> dict:
    return json.loads((FACTS / "fits.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda d: "{ not json", r"not valid JSON \(line 1 column 3: .*\) — collect them again on the CRM host with "
                                r"tools/collect-server-facts\.sh"),
        (lambda d: json.dumps([1, 2]), r"not a server facts file \(\"schema\" must be"),
        (lambda d: json.dumps({**d, "schema": "other/2"}), r"not a server facts file"),
        (lambda d: json.dumps({k: v for k, v in d.items() if k not in ("ram_mb", "opcache")}),
         r"missing ram_mb, opcache — collect them again"),
        (lambda d: json.dumps({**d, "ram_mb": None}), r"ram_mb cannot be null"),
        (lambda d: json.dumps({**d, "server_limit": None}), r"server_limit is null without a reason under \"unavailable\""),
        (lambda d: json.dumps({**d, "max_request_workers": "lots"}), r"max_request_workers is \"lots\", not a whole number"),
        (lambda d: json.dumps({**d, "mpm": "threaded"}), r"mpm is \"threaded\", not one of prefork, worker, event"),
        (lambda d: json.dumps({**d, "keep_alive": "yes"}), r"keep_alive is \"yes\", not true or false"),
        (lambda d: json.dumps({**d, "worker_rss_avg_mb": -3}), r"worker_rss_avg_mb is -3, not a number of MB"),
    ],
)
def test_a_malformed_facts_file_is_one_config_error_line_with_the_fix(tmp_path, change, message):
    path = facts_file(tmp_path, change(good()))
    with pytest.raises(ConfigError, match=message) as caught:
        load_settings({**BASE, "READINESS_SERVER_FACTS": str(path)})
    assert "\n" not in str(caught.value)
    assert str(caught.value).startswith(f"environment variable READINESS_SERVER_FACTS ({path}):")


def test_a_missing_facts_file_is_named():
    with pytest.raises(ConfigError, match=r"READINESS_SERVER_FACTS: no such file 'nowhere\.json'"):
        load_settings({**BASE, "READINESS_SERVER_FACTS": "nowhere.json"})


def test_a_null_fact_with_its_reason_is_accepted():
    facts = settings_for("apache-unreadable.json").sizing.facts
    assert facts.max_request_workers is None
    assert facts.unavailable["max_request_workers"] == "apache2ctl -V failed: Permission denied"


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("READINESS_LOAD_SECONDS", "0", r"READINESS_LOAD_SECONDS='0' — use a number from 0.5 to 600"),
        ("READINESS_LOAD_HEADROOM", "x", r"READINESS_LOAD_HEADROOM='x' — use a number from 1 to 10"),
        ("READINESS_LOAD_MAX_REQUESTS", "5", r"use a number from 10 to 100000"),
        ("READINESS_LOAD_P95_RATIO", "nan", r"use a number from 1 to 100"),
        ("READINESS_MEMORY_MARGIN", "150", r"use a number from 0 to 100"),
    ],
)
def test_probe_and_sizing_numbers_are_checked(name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings({**BASE, name: value})


def test_more_concurrent_sessions_than_the_probe_runs_is_refused():
    with pytest.raises(ConfigError, match=r"RIVA_THREADS x READINESS_LOAD_HEADROOM is 300 concurrent sessions"):
        load_settings({**BASE, "RIVA_THREADS": "100", "READINESS_LOAD_HEADROOM": "3"})


def test_the_memory_chart_shows_the_workers_against_ram_minus_reserve_and_says_the_verdict(tmp_path):
    from readiness import sizing_report

    settings = settings_for("does-not-fit.json")
    budget = sizing.memory_budget(settings.sizing.facts, settings.sizing)
    assert (budget.workers, budget.worker_mb, budget.needed_mb, budget.free_mb, budget.fits) == (150, 72.5, 13050, 6144,
                                                                                              False)
    assert sizing_report.title(budget) == ("R2.3 memory failed: 150 workers (MaxRequestWorkers) need 13,050 MB but have "
                                           "only 6,144 MB (RAM - reserve)")
    fits = load_settings({**BASE, "READINESS_SERVER_FACTS": str(FACTS / "fits.json")})
    assert sizing_report.title(sizing.memory_budget(fits.sizing.facts, fits.sizing)).startswith("R2.3 memory passed:")
    chart = sizing_report.draw_memory(budget, tmp_path / sizing_report.CHART)
    assert chart.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and chart.stat().st_size > 5_000
    unknown = replace(settings.sizing.facts, worker_rss_avg_mb=None)
    assert sizing.memory_budget(unknown, settings.sizing) is None  # no chart of an unknown
