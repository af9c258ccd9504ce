"""Command line: `python -m readiness demo` runs the whole suite against the built-in 1CRM simulator."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SETTING_PREFIXES = ("CRM_", "RIVA_", "READINESS_", "CHANGE_TICKET")


def demo_environment(simulator_env: dict[str, str]) -> dict[str, str]:
    """This shell's environment without any readiness setting, plus the simulator's: the demo never
    mixes in a real CRM's settings (nor reads a .env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SETTING_PREFIXES)}
    env.update(simulator_env)
    env["READINESS_ENV_FILE"] = "none"
    return env


def run_demo(preset: str, pytest_args: list[str]) -> int:
    from crm_simulator import Simulator  # the suite itself never imports the simulator

    with Simulator(preset) as simulator:
        print(f"Demo: the readiness suite against the built-in 1CRM simulator (preset '{preset}') at "
              f"{simulator.url} — this is not your CRM.", flush=True)
        command = [sys.executable, "-m", "pytest", *pytest_args]
        # A short concurrency probe keeps the demo quick; a real run probes for 20 s.
        settings = {"READINESS_LOAD_SECONDS": "3", **simulator.env()}
        return subprocess.call(command, cwd=PROJECT_ROOT, env=demo_environment(settings))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m readiness", description="Riva readiness suite for 1CRM.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the whole suite against the built-in 1CRM simulator")
    demo.add_argument("--preset", default="healthy",
                      help="the simulated server state (python -m crm_simulator --list-presets)")
    demo.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest (after --)")
    args = parser.parse_args(argv)
    if args.command == "demo":
        extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
        try:
            return run_demo(args.preset, extra)
        except KeyboardInterrupt:
            return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
