"""Reading the HTML report as a reviewer's browser would: its embedded data, and headless Chromium.

A tool that is missing skips the test on a developer's machine, but fails it in CI (CI=true),
where .ci/run installs Node's packages and Chromium.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from pathlib import Path
from urllib.parse import quote, quote_plus

import pytest

from readiness.html_report import PROJECT_ROOT

# The single-file report embeds its data as d("widgets/…json", "<base64>") calls.
_EMBEDDED = re.compile(r'\bd\("([^"]+)","([A-Za-z0-9+/=]*)"\)')


def require(available: bool, what: str) -> None:
    if available:
        return
    if os.environ.get("CI"):
        pytest.fail(f"{what} is missing in CI — .ci/run installs it")
    pytest.skip(f"{what} is not installed here")


def report_generator_available() -> bool:
    """True where the HTML report can be made; in CI it must be (.ci/run runs npm ci)."""
    available = shutil.which("node") is not None and (PROJECT_ROOT / "node_modules" / "allure" / "cli.js").is_file()
    if not available and os.environ.get("CI"):
        pytest.fail("the HTML report generator is missing in CI — .ci/run runs npm ci")
    return available


def require_report_generator() -> None:
    require(report_generator_available(), "the HTML report generator (Node.js and npm ci)")


def chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    require(found is not None, "Chromium (apt-get install chromium)")
    return found


def embedded_files(html: str) -> dict[str, bytes]:
    return {name: base64.b64decode(data) for name, data in _EMBEDDED.findall(html)}


def browse(page: Path, *, screenshot: Path | None = None, size: str = "1400,1000") -> str:
    """Opens the file in headless Chromium, offline and with a fresh profile; returns the rendered DOM."""
    with tempfile.TemporaryDirectory() as profile:
        command = [chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                   "--disable-component-update", "--disable-sync", "--no-first-run", f"--user-data-dir={profile}",
                   f"--window-size={size}", "--virtual-time-budget=5000"]
        if screenshot is not None:
            subprocess.run([*command, f"--screenshot={screenshot}", page.as_uri()], capture_output=True, timeout=120,
                           check=True)
        done = subprocess.run([*command, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120,
                              check=True)
    return done.stdout


def visible_text(dom: str) -> str:
    text = re.sub(r"<script\b.*?</script>|<style\b.*?</style>", " ", dom, flags=re.S)
    return " ".join(re.sub(r"<[^>]+>", " ", text).split())


def distinct_pixel_bytes(png: Path) -> int:
    """How many different byte values the image's pixel rows hold: a blank page has almost none."""
    data = png.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{png} is not a PNG"
    position, idat = 8, b""
    while position < len(data):
        length, kind = struct.unpack(">I4s", data[position:position + 8])
        if kind == b"IDAT":
            idat += data[position + 8:position + 8 + length]
        position += 12 + length
    return len(set(zlib.decompress(idat)))


# -- the secret scan: every output of a run, in every form a secret travels in ---------------------------

SHORT_SECRET = 4  # shorter needles count as leaked only as a whole word (the suite's masking policy, G3)


def secret_forms(*secrets: str) -> set[str]:
    """Each secret as written, URL-encoded and base64 (standard, and URL-safe without padding)."""
    forms = set()
    for secret in filter(None, secrets):
        raw = secret.encode("utf-8")
        forms |= {secret, quote(secret, safe=""), quote_plus(secret), base64.b64encode(raw).decode(),
                  base64.urlsafe_b64encode(raw).decode().rstrip("=")}
    return {f for f in forms if f}


def basic_forms(user: str, password: str) -> set[str]:
    """What a Basic Authorization header carries for this pair."""
    return secret_forms(f"{user}:{password}")


def leaks(text: str, needles, *, binary: bool = False) -> list[str]:
    """The needles found in text; a short one only where it stands as a word (not next to a letter or digit),
    and none of those in binary data, where any short byte sequence occurs by chance."""
    found = []
    for needle in needles:
        if len(needle) >= SHORT_SECRET:
            if needle in text:
                found.append(needle)
        elif not binary and re.search(rf"(?<![^\W_]){re.escape(needle)}(?![^\W_])", text):
            found.append(needle)
    return found


def make_html_report(reports_dir: Path) -> str:
    """python -m readiness report for a finished run; its output."""
    made = subprocess.run([sys.executable, "-m", "readiness", "report", "--reports-dir", str(reports_dir)],
                          cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=300)
    assert made.returncode == 0, made.stdout + made.stderr
    return made.stdout + made.stderr


def leaked_secrets(reports_dir: Path, output: str, needles) -> dict[str, list[str]]:
    """{output: needles found} over the terminal output and every file under reports_dir: readiness.json,
    junit.xml, the connection sheet, the target CSV, the load-probe files, the Allure results with their
    attachments, and the HTML report with its embedded (base64) data decoded."""
    needles = sorted(set(needles), key=len, reverse=True)
    found = {"terminal output": leaks(output, needles)}
    for path in (p for p in reports_dir.rglob("*") if p.is_file()):
        data = path.read_bytes()
        if path.suffix != ".html":
            found[str(path)] = leaks(data.decode("utf-8", errors="replace"), needles, binary=_binary(path.name, data))
            continue
        # The page itself, without the report application's own code (data: URIs), then each embedded file.
        html = data.decode("utf-8", errors="replace")
        found[str(path)] = leaks(_DATA_URI.sub(" ", _EMBEDDED.sub(" ", html)), needles)
        for name, content in embedded_files(html).items():
            found[f"{path} {name}"] = leaks(content.decode("utf-8", errors="replace"), needles,
                                            binary=_binary(name, content))
    return {where: leaked for where, leaked in found.items() if leaked}


_DATA_URI = re.compile(r"data:[\w/+.-]+;base64,[A-Za-z0-9+/=]+")


def _binary(name: str, data: bytes) -> bool:
    return name.endswith((".png", ".jpg", ".jpeg", ".gif", ".woff", ".woff2")) or b"\0" in data[:4096]


def global_attachment(run, name: str) -> str:
    """A run-level Allure attachment (allure.global_attach) by its name."""
    folder = run.reports_dir / "allure-results"
    for globals_file in folder.glob("*-globals.json"):
        for attachment in json.loads(globals_file.read_text(encoding="utf-8")).get("attachments", []):
            if attachment["name"] == name:
                return (folder / attachment["source"]).read_text(encoding="utf-8")
    raise AssertionError(f"no global attachment {name!r}")
