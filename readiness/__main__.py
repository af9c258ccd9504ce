"""Command line: `python -m readiness demo` runs the whole suite against the built-in 1CRM simulator."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
_SETTING_PREFIXES = ("CRM_", "RIVA_", "READINESS_", "CHANGE_TICKET")
# Settings about this host, not the CRM: the demo keeps them (e.g. READINESS_BROWSER=required in CI).
HOST_SETTINGS = ("READINESS_BROWSER", "READINESS_CHROMIUM", "READINESS_CHROMEDRIVER")


def demo_environment(simulator_env: dict[str, str]) -> dict[str, str]:
    """This shell's environment without any readiness setting, plus the simulator's: the demo never
    mixes in a real CRM's settings (nor reads a .env)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_SETTING_PREFIXES) or k in HOST_SETTINGS}
    env.update(simulator_env)
    env["READINESS_ENV_FILE"] = "none"
    return env


def preset_name(value: str) -> str:
    """--preset of the demo: a misspelt preset is a usage error with a "did you mean", before anything starts."""
    from crm_simulator.presets import preset_argument

    return preset_argument(value)


def run_demo(preset: str, pytest_args: list[str]) -> int:
    from crm_simulator import Simulator  # the suite itself never imports the simulator

    with Simulator(preset) as simulator:
        print(f"Demo: the readiness suite against the built-in 1CRM simulator (preset '{preset}') at "
              f"{simulator.url} — this is not your CRM.", flush=True)
        command = [sys.executable, "-m", "pytest", *pytest_args]
        # A short concurrency probe keeps the demo quick; a real run probes for 20 s.
        settings = {"READINESS_LOAD_SECONDS": "3", **simulator.env()}
        exit_code = subprocess.call(command, cwd=PROJECT_ROOT, env=demo_environment(settings))
    if exit_code in (0, 1, 101):  # a verdict was reached: GO, NO-GO or INCOMPLETE
        reports, results = _report_locations(pytest_args)
        make_report(reports, results, missing_tools_ok=True)
    return exit_code


def _report_locations(pytest_args: list[str]) -> tuple[Path, Path | None]:
    """Where the suite wrote its reports, when the pytest arguments moved them."""
    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--reports-dir", type=Path, default=Path("reports"))
    parser.add_argument("--alluredir", type=Path, default=None)
    known, _ = parser.parse_known_args(pytest_args)
    return PROJECT_ROOT / known.reports_dir, PROJECT_ROOT / known.alluredir if known.alluredir else None


def make_report(reports_dir: Path, results_dir: Path | None = None, *, missing_tools_ok: bool = False) -> int:
    """The single HTML file for the change ticket; one line either way."""
    from .errors import ReadinessError
    from .html_report import ReportUnavailable, generate

    try:
        made = generate(reports_dir, results_dir)
    except ReportUnavailable as exc:
        print(f"riva-readiness: {exc}", flush=True)
        return 0 if missing_tools_ok else 3
    except ReadinessError as exc:
        print(f"riva-readiness: {exc}", flush=True)
        return 3
    print(f"HTML report: {made.html} — {made.name}", flush=True)
    return 0


def run_sweep(dry_run: bool) -> int:
    from .config import load_settings
    from .errors import ConfigError, ReadinessError
    from .run import ReadinessRun
    from .sweep import crm_looked_at, sweep

    try:
        run = ReadinessRun(load_settings())
    except ReadinessError as exc:
        print(f"riva-readiness sweep: {exc}", file=sys.stderr)
        return 4 if isinstance(exc, ConfigError) else 1
    crm = run.redactor.text(crm_looked_at(run.settings))
    print(f"Sweeping {crm} for probe records of interrupted runs"
          f"{' (dry run: nothing is deleted)' if dry_run else ''}", flush=True)
    try:
        report = sweep(run, dry_run=dry_run)
    except ReadinessError as exc:
        print(f"riva-readiness sweep of {crm}: {exc}", file=sys.stderr)
        return 4 if isinstance(exc, ConfigError) else 1
    for note in report.notes:
        print(f"note: {note}")
    for leftover in report.found if dry_run else report.removed:
        print(f"{'would remove' if dry_run else 'removed'} {leftover.model} {leftover.record_id} '{leftover.title}' "
              f"(assigned to {leftover.owner})")
    for problem in report.problems:
        print(f"could not sweep: {problem}", file=sys.stderr)
    print(f"{len(report.found)} probe record(s) found on {crm}; {len(report.removed)} removed")
    return 1 if report.problems else 0


def run_attest(requirement: str, subject: str | None, reports_dir: Path) -> int:
    """Prints a ready-to-fill attestation for an unverified finding of the last run."""
    import json

    from .attest import entry_for
    from .errors import ReadinessError

    path = reports_dir / "readiness.json"
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
        print(entry_for(document, requirement, subject), end="")
    except (OSError, ValueError) as exc:
        print(f"riva-readiness attest: cannot read the last run's {path} ({exc}) — run the suite first", file=sys.stderr)
        return 4
    except ReadinessError as exc:
        print(f"riva-readiness attest: {exc}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m readiness", description="Riva readiness suite for 1CRM.")
    commands = parser.add_subparsers(dest="command", required=True)
    demo = commands.add_parser("demo", help="run the whole suite against the built-in 1CRM simulator")
    demo.add_argument("--preset", default="healthy", type=preset_name,
                      help="the simulated server state (python -m crm_simulator --list-presets)")
    demo.add_argument("pytest_args", nargs=argparse.REMAINDER, help="passed on to pytest (after --)")
    init = commands.add_parser("init", help="write a first .env by asking for each setting, then check the connection")
    init.add_argument("--force", action="store_true", help="replace an existing .env")
    sweep = commands.add_parser("sweep", help="remove probe records left behind by interrupted runs")
    sweep.add_argument("--dry-run", action="store_true", help="only list what would be removed")
    html = commands.add_parser("report", help="make reports/readiness-report.html, one file for the change ticket, "
                                              "from the last run (needs Node.js and npm ci)")
    html.add_argument("--reports-dir", type=Path, default=Path("reports"), help="where the run wrote readiness.json")
    html.add_argument("--alluredir", type=Path, default=None, help="the run's Allure results (default: in --reports-dir)")
    attest = commands.add_parser("attest", help="print a ready-to-fill attestation for an unverified finding of the "
                                                "last run (paste it under 'attestations:' in READINESS_WAIVERS_FILE)")
    attest.add_argument("requirement", help="the requirement's ID, e.g. R4.3")
    attest.add_argument("--subject", default=None, help="a target address or a role name, e.g. Sales")
    attest.add_argument("--reports-dir", type=Path, default=Path("reports"), help="where the run wrote readiness.json")
    args = parser.parse_args(argv)
    if args.command == "attest":
        return run_attest(args.requirement, args.subject, args.reports_dir)
    if args.command == "sweep":
        return run_sweep(args.dry_run)
    if args.command == "report":
        return make_report(args.reports_dir, args.alluredir)
    if args.command == "init":
        from .init_env import init as first_env

        return first_env(Path(".env"), force=args.force)
    if args.command == "demo":
        extra = args.pytest_args[1:] if args.pytest_args[:1] == ["--"] else args.pytest_args
        try:
            return run_demo(args.preset, extra)
        except KeyboardInterrupt:
            return 130
    return 2


if __name__ == "__main__":
    sys.exit(main())
