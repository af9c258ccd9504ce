"""Fixtures of every test layer: `suite` runs the readiness suite (in this process, see suite_runner.py) against a
fresh simulator; `host_browser` is this host's Chromium."""

from __future__ import annotations

import os
import signal
import threading
from pathlib import Path

import pytest
from suite_runner import QUICK_LOAD, run_suite

from crm_simulator import Simulator
from readiness.browser import Browser, BrowserUnavailable, find_browser
from readiness.config import BrowserSettings


# The longest tests first, so that xdist deals them out to every worker at the start and the short ones fill in
# at the end (no worker is left with a long test while the others are idle).
_LAYERS_BY_COST = ("end_to_end", "suite", "integration", "simulator", "unit")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    def cost_rank(item: pytest.Item) -> int:
        layer = Path(str(item.path)).parent.name
        return _LAYERS_BY_COST.index(layer) if layer in _LAYERS_BY_COST else len(_LAYERS_BY_COST)

    items.sort(key=cost_rank)  # stable: within a layer, the order of the files


_SIGNALS = [getattr(signal, name) for name in ("SIGINT", "SIGTERM", "SIGBREAK") if hasattr(signal, name)]


@pytest.fixture(autouse=True)
def ctrl_c_as_in_a_terminal():
    """Each test starts with Ctrl-C raising KeyboardInterrupt, as pytest in a terminal has it, whatever the
    tests were started with (a background job, as some CI runners start them, has SIGINT ignored, which its
    child processes inherit), and leaves the signal handlers as it found them for the next test."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    saved = {signum: signal.getsignal(signum) for signum in _SIGNALS}
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        for signum, handler in saved.items():
            signal.signal(signum, handler)


@pytest.fixture
def suite(tmp_path):
    """suite(preset, *pytest_args, only="R4.2 or R4.3", NAME=value, ...) runs the suite against a fresh simulator:
    the whole catalogue, or with `only` just the scenarios of those requirements (a pytest -m expression), for
    a test about one finding; such a partial run gives no verdict (PARTIAL, exit code 1).

    An override may be a function of the simulator (for values built from its address), or None to unset.
    """

    def run(preset: str = "healthy", *pytest_args: str, only: str | None = None, simulator_options: dict | None = None,
            **overrides):
        with Simulator(preset, **(simulator_options or {})) as simulator:
            # fast: no browser (the browser tests ask for one) and a short concurrency probe, capped in requests (it
            # is CPU-bound), whose latency limits a loaded machine cannot exceed (a test about R2.2 sets its own)
            env = {**QUICK_LOAD, **simulator.env(),
                   "READINESS_BROWSER": "off"}
            for name, value in overrides.items():
                value = value(simulator) if callable(value) else value
                env.pop(name, None) if value is None else env.__setitem__(name, value)
            selection = ("-m", only) if only else ()
            result = run_suite(env, tmp_path / "reports", *selection, *pytest_args)
            result.simulator = simulator
            return result

    return run


@pytest.fixture(scope="session")
def host_browser() -> Browser:
    """This host's Chromium (or Chrome) and driver. Without them the browser tests skip, except in CI, which
    installs them (.ci/run): there they fail, so that the real browser path is never silently left out."""
    configured = {name: os.environ.get(f"READINESS_{name.upper()}") for name in ("chromium", "chromedriver")}
    try:
        return find_browser(BrowserSettings(**{k: Path(v) for k, v in configured.items() if v}))
    except BrowserUnavailable as exc:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI must run the browser tests, but {exc} — .ci/run installs chromium and chromium-driver")
        pytest.skip(f"{exc} — install Chromium and its driver (Debian: apt-get install chromium chromium-driver)")
