"""The run's Redactor applied where pytest and Allure write: every report, every Allure file (G3).

- Reports: the outermost makereport wrapper replaces each traceback (report.longrepr, also of an
  unexpected exception, shown with locals under -l) by its redacted text, and redacts captured
  output and user properties. The terminal, junit.xml and pytest-xdist all read the report after it.
- Allure: allure-pytest-bdd writes through an AllureFileLogger; it is swapped for one that redacts
  every result, container and attachment as it is written. Redacting at the writer, in the process
  that talked to the CRM (an xdist worker knows the tokens it was issued), covers every field Allure
  has or will have (names, parameters, status messages taken from the raw exception, traces,
  attachments) and never leaves a secret on disk, even for a run that is killed; post-processing the
  results folder at the end would miss both. It first hands each result to the plugin's `tidy`
  (readiness/allure_view.py: no fixtures as step parameters, no noise labels).
- Internal errors: the traceback pytest prints and junit.xml records is redacted too.
"""

from __future__ import annotations

import io
import json
import os
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import allure_commons
import pytest
from allure_commons.logger import AllureFileLogger
from allure_commons.model2 import TestResult
from attr import asdict

from .redaction import Redactor

_TEXT_SNIFF = 4096


@dataclass(frozen=True)
class _Crash:
    """The one-line crash location pytest's summaries and junit.xml's message attribute read."""

    path: str
    lineno: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.lineno}: {self.message}"


class RedactedRepr:
    """A traceback as redacted text; pytest prints it, junit.xml and xdist take it as text."""

    def __init__(self, text: str, reprcrash: _Crash | None = None):
        self.text = text
        self.reprcrash = reprcrash

    def toterminal(self, tw) -> None:
        for line in self.text.splitlines():
            tw.line(line)

    def __str__(self) -> str:
        return self.text


def redacted_longrepr(longrepr, redactor: Redactor):
    if longrepr is None:
        return None
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # a skip: (path, line, reason)
        path, line, reason = longrepr
        return path, line, redactor.text(reason)
    if isinstance(longrepr, str):
        return redactor.text(longrepr)
    crash = getattr(longrepr, "reprcrash", None)
    redacted_crash = None if crash is None else _Crash(
        str(getattr(crash, "path", "")), getattr(crash, "lineno", 0) or 0, redactor.text(getattr(crash, "message", "")))
    return RedactedRepr(redactor.text(str(longrepr)), redacted_crash)


def redact_report(report, redactor: Redactor) -> None:
    report.longrepr = redacted_longrepr(report.longrepr, redactor)
    report.sections = [(title, redactor.text(content)) for title, content in getattr(report, "sections", [])]
    if hasattr(report, "user_properties"):
        report.user_properties = [(name, redactor.mapping(value)) for name, value in report.user_properties]


class ReportMasking:
    """Registered by the plugin in every process (controller and xdist workers), with the run's redactor."""

    def __init__(self, redactor: Redactor, tidy: Callable[[dict], dict] | None = None):
        self.redactor = redactor
        self.tidy = tidy

    @pytest.hookimpl(wrapper=True, tryfirst=True)  # outermost: after every other plugin has added to the report
    def pytest_runtest_makereport(self, item, call):
        report = yield
        redact_report(report, self.redactor)
        return report

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_make_collect_report(self, collector):
        report = yield
        redact_report(report, self.redactor)
        return report

    @pytest.hookimpl(tryfirst=True)
    def pytest_internalerror(self, excrepr, excinfo):
        text = self.redactor.text(str(excrepr))
        excrepr.toterminal = lambda tw: [tw.line(line) for line in text.splitlines()]  # str(excrepr) reads this
        return None  # the terminal reporter still prints it, now redacted

    def pytest_sessionstart(self, session):
        install_allure_redaction(session.config, self.redactor, self.tidy)


class RedactingFileLogger(AllureFileLogger):
    """allure-commons' file writer, with every result, container and attachment redacted as written
    (a result tidied first, when a `tidy` is given)."""

    def __init__(self, report_dir, redactor: Redactor, tidy: Callable[[dict], dict] | None = None):
        super().__init__(report_dir, clean=False)
        self.redactor = redactor
        self.tidy = tidy

    def _report_item(self, item):
        data = asdict(item, filter=lambda _, v: v or v is False)
        if self.tidy is not None and isinstance(item, TestResult):
            data = self.tidy(data)
        data = self.redactor.mapping(data)
        filename = item.file_pattern.format(prefix=uuid.uuid4())
        temporary = self._report_dir / f"{filename}.tmp"
        with io.open(temporary, "w", encoding="utf8") as json_file:
            json.dump(data, json_file, indent=4 if os.environ.get("ALLURE_INDENT_OUTPUT") else None,
                      ensure_ascii=False)
        os.replace(temporary, self._report_dir / filename)

    def redacted_bytes(self, body: bytes | str) -> bytes:
        """Text is redacted; binary (a PNG) passes as it is: it holds no typed text."""
        if isinstance(body, str):
            return self.redactor.text(body).encode("utf-8")
        if b"\0" in body[:_TEXT_SNIFF]:
            return body
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return body
        return self.redactor.text(text).encode("utf-8")

    @allure_commons.hookimpl
    def report_attached_file(self, source, file_name):
        self.report_attached_data(Path(source).read_bytes(), file_name)

    @allure_commons.hookimpl
    def report_attached_data(self, body, file_name):
        temporary = self._report_dir / f"{file_name}.tmp"
        temporary.write_bytes(self.redacted_bytes(body))
        os.replace(temporary, self._report_dir / file_name)


def install_allure_redaction(config: pytest.Config, redactor: Redactor,
                             tidy: Callable[[dict], dict] | None = None) -> None:
    """Swaps allure-pytest-bdd's file logger for the redacting one (and back at the end, so that
    allure-pytest-bdd's own clean-up finds the logger it registered)."""
    manager = allure_commons.plugin_manager
    for plugin in list(manager.get_plugins()):
        if type(plugin) is not AllureFileLogger:
            continue
        name = manager.get_name(plugin)
        manager.unregister(plugin)
        masking = RedactingFileLogger(config.option.allure_report_dir, redactor, tidy)
        manager.register(masking)

        def restore(original=plugin, original_name=name, masking=masking):
            manager.unregister(masking)
            manager.register(original, original_name)

        config.add_cleanup(restore)
