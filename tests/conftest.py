"""Runs the readiness suite as a user would (a pytest subprocess) against the built-in simulator."""

from __future__ import annotations

import pytest
from suite_runner import run_suite

from crm_simulator import Simulator


@pytest.fixture
def suite(tmp_path):
    """suite(preset, *pytest_args, NAME=value, ...) runs the whole suite against a fresh simulator.

    An override may be a function of the simulator (for values built from its address), or None to unset.
    """

    def run(preset: str = "healthy", *pytest_args: str, simulator_options: dict | None = None, **overrides):
        with Simulator(preset, **(simulator_options or {})) as simulator:
            env = simulator.env()
            for name, value in overrides.items():
                value = value(simulator) if callable(value) else value
                env.pop(name, None) if value is None else env.__setitem__(name, value)
            result = run_suite(env, tmp_path / "reports", *pytest_args)
            result.simulator = simulator
            return result

    return run
