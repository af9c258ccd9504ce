"""The readiness summary page: rendered from hand-built documents, then read in a real headless browser."""

from __future__ import annotations

import base64
import json
import os
import re
import time
from html import unescape
from pathlib import Path

import pytest

from readiness import summary_page
from readiness.redaction import Redactor

PNG = b"\x89PNG\r\n\x1a\n"


def check(rid, status, message, *, step=None, subject=None, blocking=True, title=None):
    return {"id": rid, "step": step or int(rid[1]), "title": title or f"the title of {rid}", "status": status,
            "blocking": blocking, "message": message, "subject": subject}


def document(verdict="GO", reasons=(), checks=(), **more):
    return {"verdict": verdict, "reasons": list(reasons), "crm_url": "https://crm.example.com/1crm", "version": "8.7.7",
            "edition": "Enterprise", "generated_at": "2026-12-02T07:30:00Z", "mode": "full",
            "run_id": "20261202T072900Z-abc123", "change_ticket": "CHG-1234", "suite_version": "0.1.0",
            "not_covered": [], "checks": list(checks) or [check("R1.1", "passed", "crm.example.com accepted a connection")],
            "waivers": [], **more}


WAIVER = {"requirement": "R1.2", "subject": None, "justification": "Internal CA, trusted by group policy",
          "approved_by": "J. Smith (change board)", "ticket": "CHG-1200", "expires": "2026-12-31", "state": "applied",
          "note": "applied to 1 failed check"}
ATTESTATION = {"requirement": "R3.5", "subject": None, "explanation": "Password never expires: checked in Admin > Users",
               "attested_by": "M. Jones (CRM administrator)", "date": "2026-12-01", "expires": "2027-01-31",
               "ticket": "CHG-1234", "state": "applied", "note": "covers 1 unverified check"}


def text_of(html: str) -> str:
    return " ".join(unescape(re.sub(r"<[^>]+>", " ", re.sub(r"<style\b.*?</style>", " ", html, flags=re.S))).split())


def verdict_tone(html: str) -> str:
    return re.search(r'<section class="verdict tone-(\w+)" id="verdict"', html).group(1)


def test_a_go_page_leads_with_the_verdict_and_the_run():
    html = summary_page.render(document())
    assert verdict_tone(html) == "good"
    text = text_of(html)
    assert "Verdict GO Ready for Riva: every blocking requirement was verified." in text
    for fact in ("CRM https://crm.example.com/1crm", "Version 8.7.7 · Enterprise", "Change ticket CHG-1234",
                 "Run 20261202T072900Z-abc123", "Finished 2026-12-02 07:30 UTC", "Mode full · suite 0.1.0"):
        assert fact in text
    assert "R1.1 the title of R1.1 passed blocking crm.example.com accepted a connection" in text
    assert '<a href="readiness-report.html">' in html  # the full Allure report, relative
    assert not re.search(r"""(?:src|href)=["'](?:https?:)?//""", html)  # nothing is loaded from anywhere


def test_a_no_go_page_gives_reasons_and_each_failure_with_its_fix():
    failed = check("R2.3", "failed", "the workers do not fit in memory: 150 x 87 MB = 13050 MB; RAM 8192 MB - 2048 MB "
                   "= 6144 MB — lower MaxRequestWorkers to 70 or add memory", subject="memory")
    broken = check("R1.5", "error", "the CRM answered HTTP 502 (https://crm.example.com/1crm/api.php/me)")
    html = summary_page.render(document("NO-GO", ["R1.5 error", "R2.3 failed (memory)"],
                                        [broken, failed, check("R3.4", "failed", "is a target", blocking=False)],
                                        waivers=[WAIVER]))
    assert verdict_tone(html) == "bad"
    text = text_of(html)
    assert "Why NO-GO R1.5 error R2.3 failed (memory)" in text
    assert ("R2.3 the title of R2.3 memory failed blocking the workers do not fit in memory: 150 x 87 MB = 13050 MB; "
            "RAM 8192 MB - 2048 MB = 6144 MB Fix: lower MaxRequestWorkers to 70 or add memory") in text
    assert "R1.5 the title of R1.5 error blocking the CRM answered HTTP 502" in text
    assert "R3.4 the title of R3.4 failed advisory is a target" in text
    assert "2 failed" in text and "1 error" in text
    assert ("R1.2 applied applied to 1 failed check Internal CA, trusted by group policy J. Smith (change board) "
            "CHG-1200 2026-12-31") in text
    table = text[text.index("Requirements ·"):]
    assert table.index("Step 1") < table.index("R1.5") < table.index("Step 2") < table.index("R2.3") < table.index("R3.4")


def test_an_incomplete_page_is_amber_and_any_new_status_gets_a_colour():
    checks = [check("R3.5", "unverified", "the server does not expose password expiry — check it in Admin > Users"),
              check("R3.2", "attested", "checked by hand"), check("R1.1", "pondered", "a status added later")]
    html = summary_page.render(document("INCOMPLETE", ["R3.5 unverified"], checks, attestations=[ATTESTATION]))
    assert verdict_tone(html) == "warn"
    assert '<span class="badge tone-warn">unverified</span>' in html
    assert '<span class="badge tone-info">attested</span>' in html
    assert '<span class="badge tone-neutral">pondered</span>' in html
    text = text_of(html)
    assert "Verdict INCOMPLETE Not decided" in text
    assert "Fix: check it in Admin > Users" in text
    assert ("R3.5 applied covers 1 unverified check Password never expires: checked in Admin > Users M. Jones (CRM "
            "administrator) 2026-12-01 CHG-1234 2027-01-31") in text
    assert summary_page.render(document("SOMETHING NEW")).count('class="verdict tone-neutral"') == 1


def test_markup_from_the_crm_is_escaped_and_secrets_are_masked():
    evil = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    redactor = Redactor()
    redactor.add("S3cret-Pa55")
    checks = [check("R4.2", "failed", f"matches {evil} — fix S3cret-Pa55", subject="anna@example.com")]
    targets = [{"mailbox": "anna@example.com", "crm_user": evil, "user_status": "active", "roles": "<b>Sales</b>",
                "R4.2": "failed", "R4.3": "not run"}]
    html = summary_page.render(document("NO-GO", ["R4.2 failed (anna@example.com)"], checks,
                                        change_ticket="<i>CHG</i>"), redactor, targets=targets)
    assert "<script>alert" not in html and "<img src=x" not in html and "<b>Sales</b>" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html and "&lt;b&gt;Sales&lt;/b&gt;" in html
    assert "&lt;i&gt;CHG&lt;/i&gt;" in html
    assert "S3cret-Pa55" not in html and "Fix: fix ***" in text_of(html)


def test_many_passed_targets_collapse_to_one_row_and_the_target_table_lists_each(tmp_path):
    checks = [check("R4.2", "passed", "matches", subject=f"user{n}@example.com") for n in range(6)]
    checks.append(check("R4.2", "failed", "no CRM user has it as primary e-mail", subject="zoe@example.com"))
    targets = [{"mailbox": f"user{n}@example.com", "crm_user": f"user{n}", "user_status": "active", "roles": "Sales",
                "R4.2": "passed"} for n in range(6)]
    html = summary_page.render(document("NO-GO", ["R4.2 failed (zoe@example.com)"], checks), targets=targets)
    text = text_of(html)
    assert "R4.2 the title of R4.2 6 targets passed blocking passed for each of them (see the per-target table)" in text
    assert "zoe@example.com failed" in text
    assert "Target users · 6 mailboxes" in text and "user5@example.com user5 active Sales passed" in text


def test_write_embeds_this_runs_charts_and_table_but_not_an_earlier_runs(tmp_path):
    reports = tmp_path / "reports"
    reports.mkdir()
    chart = reports / "load-probe.png"
    chart.write_bytes(PNG + b"chart of this run")
    (reports / "sizing-memory.png").write_bytes(PNG + b"an earlier run's chart")
    old = time.mktime((2026, 12, 1, 0, 0, 0, 0, 0, -1))
    os.utime(reports / "sizing-memory.png", (old, old))
    (reports / "target-users.csv").write_text("mailbox,crm_user,user_status,roles,R4.2\nanna@example.com,anna,active,"
                                              "Sales,passed\n", encoding="utf-8")
    run_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime(time.time() - 60)) + "-abc123"
    page = summary_page.write(reports, document(run_id=run_id), Redactor())
    html = page.read_text(encoding="utf-8")
    assert page == reports / "readiness-summary.html"
    assert f'src="data:image/png;base64,{base64.b64encode(chart.read_bytes()).decode()}"' in html
    assert "R2.2 Latency under Riva" in html and "R2.3 Memory" not in html  # the sizing chart is older than the run
    assert "anna@example.com anna active Sales passed" in text_of(html)


def test_a_configuration_error_document_still_renders():
    html = summary_page.render({"verdict": "NO-GO", "reasons": ["configuration: CRM_URL is not set"], "checks": []})
    assert "configuration: CRM_URL is not set" in text_of(html) and "No requirement was evaluated." in html


# -- in a real headless browser ------------------------------------------------------------------------------------


SIZES = ((1024, 768), (1920, 1200))


def sample_charts(folder: Path) -> list[tuple[str, Path]]:
    """Real charts of a made-up probe and sizing, as the run draws them."""
    from readiness import load_report, sizing_report
    from readiness.config import LoadLimits
    from readiness.load import IDLE, LOADED, OK, LoadResult, Sample
    from readiness.sizing import MemoryBudget

    samples = [Sample(IDLE, n * 0.2, 60 + n, "changes Contact", OK) for n in range(10)]
    samples += [Sample(LOADED, 2 + n * 0.05, 90 + (n * 37) % 120, "users", OK) for n in range(300)]
    result = LoadResult(6, 3, LoadLimits(), samples, len(samples), 20.0, 18.0, "time")
    return [(summary_page.CHARTS[0][1], load_report.draw(result, folder / "load-probe.png")),
            (summary_page.CHARTS[1][1], sizing_report.draw_memory(MemoryBudget("MaxRequestWorkers", 150, 62, 20, 16384,
                                                                              2048), folder / "sizing-memory.png"))]


def test_the_verdict_is_visible_without_scrolling_and_the_page_loads_nothing(host_browser, tmp_path):
    from readiness.browser import launch

    failing = [check(f"R4.{n % 5 + 1}", "failed", f"a long message about target {n}, as a real run gives it — and "
                     "its fix", subject=f"user{n}@example.com", title="Each target user's role allows every right")
               for n in range(40)]
    targets = [{"mailbox": f"user{n}@example.com", "crm_user": f"user{n} (User {n})", "user_status": "active",
                "roles": "Sales", "R4.2": "passed", "R4.3": "failed", "R4.4": "not run", "R4.5": "not run"}
               for n in range(12)]
    page = tmp_path / "readiness-summary.html"
    page.write_text(summary_page.render(
        document("NO-GO", [f"R4.{n} failed for 8 targets" for n in range(1, 6)], failing, waivers=[WAIVER],
                 attestations=[ATTESTATION]), targets=targets, charts=sample_charts(tmp_path)), encoding="utf-8")
    shots = tmp_path / "screenshots"
    shots.mkdir()
    with launch(host_browser, crm_host="localhost", timeout=30, proxy=None, pin=None) as driver:
        for width, height in SIZES:
            driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                                   {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": False})
            driver.get(page.as_uri())
            rect = driver.execute_script(
                "const r = document.getElementById('verdict-word').getBoundingClientRect();"
                "return {top: r.top, bottom: r.bottom, left: r.left, right: r.right, w: innerWidth, h: innerHeight,"
                " fetched: performance.getEntriesByType('resource').map(e => e.name),"
                " images: [...document.images].map(i => i.complete && i.naturalWidth > 0)};")
            shot = shots / f"summary-{width}x{height}.png"
            shot.write_bytes(driver.get_screenshot_as_png())
            print(f"screenshot: {shot}")
            assert (rect["w"], rect["h"]) == (width, height)
            assert 0 <= rect["top"] < rect["bottom"] <= height and 0 <= rect["left"] < rect["right"] <= width, rect
            assert rect["fetched"] == [] and rect["images"] == [True, True]  # self-contained: the charts are data: URIs
        driver.execute_cdp_cmd("Emulation.setEmulatedMedia", {"media": "print"})
        driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                               {"width": 794, "height": 1123, "deviceScaleFactor": 1, "mobile": False})  # A4 at 96 dpi
        printed = driver.execute_script(
            "const v = document.getElementById('verdict');"
            "return {bottom: v.getBoundingClientRect().bottom, background: getComputedStyle(document.body).backgroundColor,"
            " verdict: getComputedStyle(v).backgroundColor};")
        shot = shots / "summary-print.png"
        shot.write_bytes(driver.get_screenshot_as_png())
        print(f"screenshot: {shot}")
        pdf = shots / "summary.pdf"
        pdf.write_bytes(base64.b64decode(driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True})["data"]))
        print(f"PDF: {pdf}")
    assert printed["bottom"] < 1123 and printed["background"] == "rgb(255, 255, 255)"  # the verdict on page one
    assert printed["verdict"] == "rgb(253, 236, 234)"  # a light tint, no dark background on paper
    assert pdf.read_bytes()[:5] == b"%PDF-"


# -- made by the run itself ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_run_writes_the_summary_page_with_its_charts_and_targets_and_names_it(suite):
    facts = Path(__file__).parents[1] / "data" / "server-facts" / "does-not-fit.json"
    run = suite("healthy", READINESS_SERVER_FACTS=str(facts), CHANGE_TICKET="CHG-<b>42</b>")
    assert run.exit_code == 1 and run.report["reasons"] == ["R2.3 failed (memory)"]
    page = run.reports_dir / "readiness-summary.html"
    assert f"Evidence: {page}, " in " ".join(run.output.split())
    html = page.read_text(encoding="utf-8")
    assert '<section class="verdict tone-bad" id="verdict"' in html and "CHG-&lt;b&gt;42&lt;/b&gt;" in html
    charts = re.findall(r'<img src="data:image/png;base64,([A-Za-z0-9+/=]+)" alt="([^"]+)"', html)
    assert [unescape(alt) for _, alt in charts] == [title for _, title in summary_page.CHARTS]
    assert all(base64.b64decode(data).startswith(PNG) for data, _ in charts)
    assert (run.reports_dir / "sizing-memory.png").is_file()
    text = text_of(html)
    assert "Fix: under full load the server swaps and requests time out; lower MaxRequestWorkers to 70 or add memory" \
        in text
    assert "alice.archer@example.com alice.archer (Alice Archer) active Sales passed passed passed passed" in text
    assert run.simulator.password not in html
    attachments = [a["name"] for p in (run.reports_dir / "allure-results").glob("*-result.json")
                   for step in [json.loads(p.read_text(encoding="utf-8"))] for a in _attachments(step)]
    assert "Memory: workers against RAM" in attachments and "Latency over time" in attachments


def _attachments(node: dict) -> list[dict]:
    return node.get("attachments", []) + [a for step in node.get("steps", []) for a in _attachments(step)]
