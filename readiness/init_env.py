"""`python -m readiness init`: a first .env by question and answer, then one connection check.

Every answer is checked by the settings loader itself (load_settings, read_targets) and asked again
when it is wrong; secrets are read with getpass, never echoed. The connection check reuses the
suite's own step 1 checks (R1.1, R1.2, R1.5, else R1.3): no HTTP code of its own.
"""

from __future__ import annotations

import getpass
import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from . import access, tls
from .config import Settings, is_placeholder, load_settings
from .errors import ConfigError, ReadinessError
from .outcome import Outcome
from .run import ReadinessRun
from .targets import read_targets

EXIT_OK, EXIT_UNREACHABLE, EXIT_CONFIG = 0, 1, 4


@dataclass(frozen=True)
class Question:
    name: str
    prompt: str
    required: bool = False
    secret: bool = False
    asked: Callable[[dict[str, str]], bool] = lambda answers: True


QUESTIONS = (
    Question("CRM_URL", "Address of the 1CRM login window Riva will be given, e.g. https://crm.example.com/1crm",
             required=True),
    Question("CRM_USERNAME", "The Riva connection user (a 1CRM administrator), e.g. riva_svc", required=True),
    Question("CRM_PASSWORD", "Its password", required=True, secret=True),
    Question("CRM_CLIENT_ID", "OAuth2 API client id from Admin > API clients (optional; empty: HTTP Basic)"),
    Question("CRM_CLIENT_SECRET", "Its client secret", required=True, secret=True,
             asked=lambda answers: "CRM_CLIENT_ID" in answers),
    Question("CRM_CA_BUNDLE", "PEM file of the CA that signed the CRM's certificate, when it is an internal CA "
             "(optional; empty: this host's trust store)"),
    Question("CRM_PROXY", "The proxy Riva will use, e.g. http://proxy.example.com:3128 (optional; empty: none)"),
    Question("RIVA_TARGETS_FILE", "CSV of the mailboxes Riva will sync, columns email and password_env (needed for "
             "GO: without it step 4 fails)"),
    Question("READINESS_SERVER_FACTS", "facts.json written by tools/collect-server-facts.sh on the CRM host "
             "(optional; empty: R2.3 is skipped)"),
    Question("CHANGE_TICKET", "The change ticket this run is evidence for, e.g. CHG-1234 (optional)"),
)


class Prompter:
    """Asks on the console; `ask` echoes, `secret` does not (getpass)."""

    def __init__(self, write: Callable[[str], None] = print):
        self.write = write

    def ask(self, prompt: str) -> str:
        return input(f"{prompt}: ").strip()

    def secret(self, prompt: str) -> str:
        return getpass.getpass(f"{prompt} (not shown): ").strip()


def init(path: Path, *, force: bool = False, prompter: Prompter | None = None) -> int:
    """Writes `path` from the answers, then checks the connection once; the exit code says how it went."""
    prompter = prompter or Prompter()
    say = prompter.write
    if path.exists() and not force:
        say(f"riva-readiness init: {path} exists — edit it, or run python -m readiness init --force to replace it")
        return EXIT_CONFIG
    say(f"Settings for a first readiness run, written to {path}. Every setting is explained in env.example; "
        "press Enter to leave an optional one empty.")
    try:
        answers = ask_all(prompter)
        settings = validate(answers)  # all answers together, exactly as the suite will read them
    except (EOFError, KeyboardInterrupt):
        say("\nriva-readiness init: stopped before every answer was given — nothing written")
        return EXIT_CONFIG
    except ConfigError as exc:
        say(f"riva-readiness init: {exc} — nothing written")
        return EXIT_CONFIG
    write_env(path, answers)
    say(f"Wrote {path} ({len(answers)} settings; keep it private: it holds passwords).")
    say("Checking the connection once:")
    outcomes = check_connection(settings)
    for rid, outcome in outcomes:
        say(f"  {'ok  ' if outcome.passed else 'FAIL'} {rid} {outcome.message}")
    reachable = all(outcome.passed for _, outcome in outcomes)
    if not reachable:
        say(f"Fix what failed (CRM_URL, CRM_CA_BUNDLE, CRM_PROXY, the connection user in {path}), then check again "
            "with python -m readiness init --force, or run the suite to see every requirement.")
    say("Next: python -m pytest   (the whole suite on this host; about a minute, the concurrency probe loads the "
        "CRM for 20 s)")
    say("Then: open reports/readiness-summary.html (the verdict), and python -m readiness report for the full "
        "report to attach to the change ticket.")
    return EXIT_OK if reachable else EXIT_UNREACHABLE


def ask_all(prompter: Prompter) -> dict[str, str]:
    """Every question, each asked again until the settings loader accepts it."""
    answers: dict[str, str] = {}
    for question in QUESTIONS:
        if not question.asked(answers):
            continue
        value = _ask_valid(prompter, question, answers)
        if value and question.name == "RIVA_TARGETS_FILE":
            passwords = {variable: _ask_valid(prompter, Question(variable, f"Password of the probe user {email} "
                                                                 f"({variable})", required=True, secret=True), answers)
                         for variable, email in _probe_variables(value).items()}
            answers.update({question.name: value, **passwords})  # together: the loader needs each password it names
        elif value:
            answers[question.name] = value
    return answers


def _ask_valid(prompter: Prompter, question: Question, answers: dict[str, str]) -> str:
    while True:
        value = prompter.secret(question.prompt) if question.secret else prompter.ask(question.prompt)
        problem = _problem(question, value, answers)
        if problem is None:
            return value
        prompter.write(f"  {problem}")


def _problem(question: Question, value: str, answers: dict[str, str]) -> str | None:
    """What the settings loader says about this answer, or None when it takes it."""
    if not value:
        return f"{question.name} is needed — please give it" if question.required else None
    if question.required and is_placeholder(value):
        return f"{question.name}: '<…>' is a placeholder — give the real value"
    try:
        if question.name == "RIVA_TARGETS_FILE":
            _probe_variables(value)  # the probe users' passwords are asked next, so not looked up yet
        else:
            trial = {**answers, question.name: value}
            if question.name == "CRM_CLIENT_ID":
                trial.setdefault("CRM_CLIENT_SECRET", "asked next")  # the loader wants both; the secret comes next
            validate(trial)
    except ConfigError as exc:
        return str(exc).removeprefix("environment variable ")  # an answer here, not yet a variable
    return None


def _probe_variables(targets_file: str) -> dict[str, str]:
    """password_env -> mailbox of the probe users in the targets file (the file checked as the loader does)."""
    path = Path(targets_file).expanduser()
    if not path.is_file():
        raise ConfigError(f"RIVA_TARGETS_FILE: no such file '{targets_file}' — give the path of an existing file")
    targets = read_targets(path, lambda variable: "asked next")
    return {t.password_env: t.email for t in targets if t.password_env}


def validate(answers: dict[str, str]) -> Settings:
    """The answers read by the suite's own settings loader (no environment, no other .env)."""
    return load_settings({**answers, "READINESS_ENV_FILE": "none"})


def write_env(path: Path, answers: dict[str, str]) -> None:
    """KEY='value' lines that python-dotenv reads back exactly; readable by this user only where that exists."""
    lines = [f"# Written by python -m readiness init on {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; every setting is "
             "explained in env.example.", "# Never commit this file: it holds passwords."]
    lines += [f"{name}='{_quoted(value)}'" for name, value in answers.items()]
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8", newline="\n") as file:
        file.write("\n".join(lines) + "\n")


def _quoted(value: str) -> str:
    """python-dotenv's single-quoted form: only \\ and ' are escaped, nothing else is expanded."""
    return value.replace("\\", "\\\\").replace("'", "\\'")


def check_connection(settings: Settings) -> list[tuple[str, Outcome]]:
    """R1.1, then R1.2 (https), then R1.5; when the API does not take the connection user, R1.3 (the login page)."""
    run = ReadinessRun(settings)
    crm, results = settings.crm, []
    try:
        results.append(("R1.1", access.connect(crm, run.session())))
        if not results[-1][1].passed:
            return results
        if crm.is_https:
            facts = tls.inspect(crm, verify=settings.tls_verify, proxy=settings.proxy, timeout=settings.timeout)
            results.append(("R1.2", tls.judge(facts, crm)))
        results.append(("R1.5", access.api_sign_in(run.connection_api)))
        if not results[-1][1].passed:
            results.append(("R1.3", access.login_page(crm, run.session())))
    except ReadinessError as exc:
        results.append(("error", Outcome.fail(str(exc))))
    finally:
        run.close()
    return [(rid, Outcome(o.passed, run.redactor.text(o.message))) for rid, o in results]
