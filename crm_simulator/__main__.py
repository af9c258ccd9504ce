"""Run a simulated 1CRM in the foreground.

    python -m crm_simulator --preset healthy --port 8080 [--tls|--no-tls] [--host 127.0.0.1]
    python -m crm_simulator --list-presets
    python -m crm_simulator --preset healthy --ldif dc=corp,dc=example > directory.ldif

Prints the matching .env lines, then serves until Ctrl-C.
"""

from __future__ import annotations

import argparse
import signal
import sys
import time
from pathlib import Path

from .faults import describe as describe_faults
from .presets import PRESETS, preset_argument
from .server import Simulator, env_lines


def _raise_interrupt(signum, frame):
    raise KeyboardInterrupt


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m crm_simulator",
        description="Run a simulated 1CRM server (for demos and tests of the Riva readiness suite).",
    )
    parser.add_argument("--preset", default="healthy", type=preset_argument, metavar="NAME",
                        help="server state to simulate (see --list-presets); default: healthy")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on; default: 127.0.0.1")
    parser.add_argument("--port", type=int, default=8080, help="port to listen on (0: any free port); default: 8080")
    parser.add_argument("--base-path", default="/1crm", help="path of the login window; default: /1crm")
    scheme = parser.add_mutually_exclusive_group()
    scheme.add_argument("--tls", dest="tls", action="store_true", default=None, help="serve https")
    scheme.add_argument("--no-tls", dest="tls", action="store_false", help="serve plain http")
    parser.add_argument("--fault", action="append", default=[], metavar="KIND[:OPTION=VALUE,...]",
                        help="inject a fault, e.g. burst-5xx or latency:seconds=2 (repeatable; see --list-faults)")
    parser.add_argument("--list-faults", action="store_true", help="list the fault kinds and exit")
    parser.add_argument("--quiet", action="store_true", help="do not log requests")
    parser.add_argument("--env-file", type=Path, metavar="PATH",
                        help="also write the settings to this file (UTF-8), e.g. .env: the simulator as a staging CRM")
    parser.add_argument("--list-presets", action="store_true", help="list the presets and exit")
    parser.add_argument("--ldif", metavar="BASE_DN", help="print the preset's directory (one AD-style mailbox per "
                        "target, in the group cn=Riva Sync,ou=groups,BASE_DN) as LDIF and exit")
    return parser


def main(argv: list[str] | None = None) -> int:
    # An em dash must never crash a console with a narrow code page (Windows).
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")
    args = _parser().parse_args(argv)
    if args.list_presets:
        width = max(len(name) for name in PRESETS)
        for name, preset in PRESETS.items():
            print(f"{name:<{width}}  {preset.description}")
        return 0
    if args.list_faults:
        print("\n".join(describe_faults()))
        print("options: after=N (serve N matching requests first), count=N|all, scope=/path/prefix (default "
              "/api.php/), seconds=S, uses=N")
        return 0
    if args.env_file and args.env_file.exists():  # as `python -m readiness init`: never replace someone's settings
        print(f"error: {args.env_file} exists: remove it, or name another file with --env-file", file=sys.stderr)
        return 2
    try:
        sim = Simulator(args.preset, host=args.host, port=args.port, tls=args.tls, base_path=args.base_path,
                        log_requests=not args.quiet, faults=args.fault)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    try:
        sim.start()
    except OSError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    if args.ldif:
        try:
            sys.stdout.write(sim.ldif(args.ldif))
        finally:
            sim.stop()
        return 0
    # A polite kill (SIGTERM) ends like Ctrl-C: the server stops and its temporary CA file is removed.
    signal.signal(signal.SIGTERM, _raise_interrupt)
    try:
        # The CA PEM named in CRM_CA_BUNDLE lives in the simulator's temporary directory,
        # which exists exactly as long as this process serves.
        preset = sim.preset
        print(f"# preset: {preset.name} — {preset.description}")
        for fault in sim.faults.faults:
            print(f"# fault: {fault}")
        lines = list(env_lines(sim.env()))
        for line in lines:
            print(line)
        if args.env_file:  # written here, not by a shell redirect: PowerShell's would be UTF-16
            args.env_file.write_text(f"# python -m crm_simulator --preset {preset.name}, while it serves\n"
                                     + "\n".join(lines) + "\n", encoding="utf-8")
            print(f"# Settings written to {args.env_file} (removed when the simulator stops)")
        print("# Serving until Ctrl-C.", flush=True)
        while sim.running:
            time.sleep(0.5)  # short sleeps keep Ctrl-C responsive on Windows too
    except KeyboardInterrupt:
        print("\n# Stopped.", file=sys.stderr)
    finally:
        sim.stop()
        if args.env_file:
            args.env_file.unlink(missing_ok=True)  # its CA file and port are gone with the simulator
    return 0


if __name__ == "__main__":
    sys.exit(main())
