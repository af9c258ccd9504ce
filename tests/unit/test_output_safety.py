"""What the suite writes is safe to open: no secret in a traceback, an Allure file or a repr; no formula in the
target CSV; no markup in the connection sheet. Without a server, except the one Allure writer test's files."""

from __future__ import annotations

import csv
import io
import json
import re

import allure
import pytest
from allure_commons import model2

from readiness.allure_view import tidy
from readiness.config import load_settings
from readiness.connection_info import ConnectionSheet, md_cell, sheet_outcome
from readiness.redaction import MASK
from readiness.report_redaction import RedactingFileLogger, redacted_longrepr
from readiness.run import ReadinessRun, redactor_for
from readiness.server_info import ServerInfo
from readiness.target_users import csv_cell, target_table

SECRETS = {"CRM_PASSWORD": "Zq", "CRM_CLIENT_SECRET": "K9x-client", "PROXY": "P"}
ENV = {"CRM_URL": "https://crm.example.com/1crm", "CRM_USERNAME": "riva_svc", "CRM_PASSWORD": SECRETS["CRM_PASSWORD"],
       "CRM_CLIENT_ID": "riva", "CRM_CLIENT_SECRET": SECRETS["CRM_CLIENT_SECRET"],
       "CRM_PROXY": f"http://px:{SECRETS['PROXY']}@proxy.example.com:3128", "READINESS_ENV_FILE": "none"}


@pytest.fixture
def settings():
    return load_settings(ENV, env_file=None)


# -- text forms of the run's objects ------------------------------------------------------------


def test_the_settings_and_the_run_print_no_secret(settings):
    redactor = redactor_for(settings)
    for text in (repr(settings), str(settings), repr(ReadinessRun(settings, "run-1")), repr(redactor)):
        assert not redactor.reveals(text), text
    assert "http://px:***@proxy.example.com:3128" in repr(settings)
    assert redactor.reveals("Proxy-Authorization: Basic cHg6UA==")  # px:P, as requests sends it


def test_the_one_redactor_is_shared_by_the_run_and_its_evidence_log(settings):
    redactor = redactor_for(settings)
    run = ReadinessRun(settings, "run-1", redactor)
    assert run.redactor is redactor and run.log.redactor is redactor


# -- tracebacks -------------------------------------------------------------------------------------


def _sign_in(password):
    message = 42  # what a hostile server answered
    return "human" in message.lower()


def test_a_traceback_with_locals_is_replaced_by_its_redacted_text(settings):
    redactor = redactor_for(settings)
    with pytest.raises(AttributeError) as excinfo:
        _sign_in(SECRETS["CRM_PASSWORD"] + " " + SECRETS["CRM_CLIENT_SECRET"])
    longrepr = excinfo.getrepr(showlocals=True, style="long")
    assert SECRETS["CRM_CLIENT_SECRET"] in str(longrepr)  # what pytest -l would print
    redacted = redacted_longrepr(longrepr, redactor)
    assert not redactor.reveals(str(redacted)) and "password" in str(redacted) and MASK in str(redacted)
    assert "has no attribute 'lower'" in redacted.reprcrash.message  # junit.xml's message attribute
    skipped = redacted_longrepr(("x.py", 3, f"Skipped: refused riva_svc:{SECRETS['CRM_PASSWORD']}"), redactor)
    assert skipped == ("x.py", 3, f"Skipped: refused {MASK}")  # the user:password pair as a whole


def test_an_internal_error_is_printed_redacted(settings):
    from readiness.report_redaction import ReportMasking

    redactor = redactor_for(settings)
    with pytest.raises(AttributeError) as excinfo:
        _sign_in(SECRETS["CRM_CLIENT_SECRET"])
    excrepr = excinfo.getrepr(showlocals=True)
    ReportMasking(redactor).pytest_internalerror(excrepr, excinfo)
    assert SECRETS["CRM_CLIENT_SECRET"] not in str(excrepr) and "has no attribute 'lower'" in str(excrepr)


# -- Allure ---------------------------------------------------------------------------------------------


def test_the_allure_writer_tidies_each_result_then_redacts_every_field_and_attachment(settings, tmp_path):
    redactor = redactor_for(settings)
    redactor.learn("issued-token-0123456789")
    writer = RedactingFileLogger(tmp_path, redactor, lambda result: tidy(result, {"settings", "readiness_run"}, ()))
    leak = f"password={SECRETS['CRM_PASSWORD']} token=issued-token-0123456789"
    step = model2.TestStepResult(name=f"When {leak}", parameters=[model2.Parameter(name="settings", value=repr(settings)),
                                                           model2.Parameter(name="readiness_run", value="<run>"),
                                                           model2.Parameter(name="outcome", value=leak)],
                          statusDetails=model2.StatusDetails(message=leak, trace=leak))
    result = model2.TestResult(uuid="u1", name="R1.4", steps=[step], statusDetails=model2.StatusDetails(message=leak, trace=leak),
                               labels=[model2.Label(name="severity", value=allure.severity_level.BLOCKER)],
                        attachments=[model2.Attachment(name=leak, source="a-attachment.json", type="application/json")])
    writer.report_result(result)
    writer.report_attached_data(json.dumps({"reply": leak}), "a-attachment.json")
    writer.report_attached_data(leak.encode("utf-16"), "b-attachment.bin")  # not UTF-8: kept as it is
    source = tmp_path / "c.csv"
    source.write_text(f"phase,outcome\nloaded,{leak}\n", encoding="utf-8")
    writer.report_attached_file(source, "c-attachment.csv")
    [written] = tmp_path.glob("*-result.json")
    text = written.read_text(encoding="utf-8")
    assert not redactor.reveals(text) and MASK in text
    assert json.loads(text)["labels"] == [{"name": "severity", "value": "blocker"}]  # an Enum as Allure writes it
    parameters = json.loads(text)["steps"][0]["parameters"]
    assert [p["name"] for p in parameters] == ["outcome"]  # the fixtures tidied away, the rest redacted
    for name in ("a-attachment.json", "c-attachment.csv"):
        content = (tmp_path / name).read_text(encoding="utf-8")
        assert not redactor.reveals(content) and MASK in content
    assert (tmp_path / "b-attachment.bin").read_bytes() == leak.encode("utf-16")


# -- the target CSV (OWASP: CSV injection) ----------------------------------------------------------------


@pytest.mark.parametrize("name", ["=HYPERLINK(\"http://evil\",\"x\")", "+1+1", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd",
                                  "\uff1dcmd"])
def test_a_crm_name_starting_a_formula_is_text_in_the_target_csv(name):
    facts = {"alice@example.com": {"crm_user": name, "user_status": "active", "roles": f"{name}, Sales"}}
    rows = list(csv.reader(io.StringIO(target_table(facts, {("R4.2", "alice@example.com"): "passed"}))))
    assert rows[1][:4] == ["alice@example.com", "'" + name, "active", "'" + name + ", Sales"]
    assert rows[1][4:] == ["passed", "not run", "not run", "not run"]
    assert all(not cell.startswith(("=", "+", "-", "@", "\t", "\r")) for row in rows for cell in row)


def test_ordinary_cells_are_unchanged():
    assert csv_cell("Alice Archer (alice.archer)") == "Alice Archer (alice.archer)"


# -- the connection sheet (Markdown) -------------------------------------------------------------------


def _cells(row: str) -> list[str]:
    """A GFM table row's cells: split at pipes that are not escaped."""
    return [c.strip() for c in re.split(r"(?<!\\)\|", row.strip())[1:-1]]


def test_markup_from_the_crm_cannot_break_the_connection_sheet():
    hostile = "8.7 | injected | cell\n# Heading\n<script>alert(1)</script> `code` [link](http://evil) *bold* _it_"
    sheet = ConnectionSheet("https://crm.example.com/1crm", "riva_svc|x", ServerInfo(hostile, "Ent<b>", False, "api"),
                            proxy="http://px:secret@proxy:3128", targets=[("a|b@example.com", "failed\nrow")])
    text = sheet.render()
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert all(len(_cells(row)) == 2 for row in rows), text  # no injected cell, no broken row
    assert "<script>" not in text and "<b>" not in text and "\n# Heading" not in text and "[link](" not in text
    assert "| Connection user name | riva\\_svc\\|x |" not in text and "| Connection user name | riva_svc\\|x |" in text
    assert "secret" not in text and "| Proxy | http://px@proxy:3128 (password from your password vault) |" in text


def test_md_cell_escapes_markup_but_keeps_ordinary_text_readable():
    assert md_cell("riva_svc") == "riva_svc" and md_cell("alice.archer@example.com") == "alice.archer@example.com"
    assert md_cell("a|b`c<d>*e*[f]\\g\nh") == "a\\|b\\`c\\<d\\>\\*e\\*\\[f\\]\\\\g h"


def test_r53_judges_the_sheet_by_the_runs_masking_policy(settings):
    redactor = redactor_for(settings)
    server = ServerInfo("8.7.7", "Enterprise", False, "api")
    clean = ConnectionSheet(settings.crm.base, "riva_svc", server, proxy=settings.proxy)
    assert sheet_outcome(clean, redactor).passed  # a proxy with a password is shown without it
    leaking = ConnectionSheet(settings.crm.base, "riva_svc", ServerInfo(f"8.7 {SECRETS['CRM_PASSWORD']}", "x", False, "api"))
    assert not sheet_outcome(leaking, redactor).passed


# -- the secret scan itself (tests/report_tools.py) finds what it must ----------------------------------------


def test_the_secret_scan_finds_every_form_and_short_secrets_only_as_words(tmp_path):
    from report_tools import basic_forms, leaked_secrets, secret_forms

    needles = secret_forms("Zq", "long-token-123456") | basic_forms("riva_svc", "Zq")
    (tmp_path / "a.json").write_text('{"m": "password Zq"}', encoding="utf-8")
    (tmp_path / "b.txt").write_text("bG9uZy10b2tlbi0xMjM0NTY= and XZqY and cml2YV9zdmM6WnE=", encoding="utf-8")
    (tmp_path / "c.png").write_bytes(b"\x89PNG\0 Zq ")  # binary: a short needle occurs by chance
    found = leaked_secrets(tmp_path, "terminal: long-token-123456", needles)
    assert set(found) == {"terminal output", str(tmp_path / "a.json"), str(tmp_path / "b.txt")}
    assert found["terminal output"] == ["long-token-123456"] and found[str(tmp_path / "a.json")] == ["Zq"]
    assert {"cml2YV9zdmM6WnE=", "bG9uZy10b2tlbi0xMjM0NTY="} <= set(found[str(tmp_path / "b.txt")])
    assert "Zq" not in found[str(tmp_path / "b.txt")]  # inside the word XZqY it is no password


@pytest.mark.parametrize("url, shown", [
    ("https://crm.example.com/1crm/index.php?module=Home&action=index",
     "https://crm.example.com/1crm/index.php?module=Home&action=index"),
    ("https://u:pw@crm.example.com:8443/1crm/?access_token=eyJabc&module=Home#state=x",
     "https://crm.example.com:8443/1crm/?access_token=***&module=Home#***"),
    ("https://crm/1crm/index.php?PHPSESSID=abc123&sessionid=z&api_key=k&code=c&return_module=Home",
     "https://crm/1crm/index.php?PHPSESSID=***&sessionid=***&api_key=***&code=***&return_module=Home"),
])
def test_a_screenshots_address_shows_no_credential(url, shown):
    from readiness.redaction import url_for_evidence

    assert url_for_evidence(url) == shown


def test_a_screenshots_caption_is_its_address_and_time_with_the_runs_secrets_masked(settings):
    from datetime import UTC, datetime

    from readiness.browser import caption

    taken = datetime(2026, 3, 1, 9, 30, 5, 123456, tzinfo=UTC)
    url = f"https://crm.example.com/1crm/index.php?module=Home&note={SECRETS['CRM_CLIENT_SECRET']}&token=t0k3n-v4lue"
    shown = caption(url, taken, redactor_for(settings))
    assert shown == f"https://crm.example.com/1crm/index.php?module=Home&note={MASK}&token={MASK} at 2026-03-01T09:30:05Z"
