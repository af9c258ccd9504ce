"""Reading the HTML report as a reviewer's browser would: its embedded data, and headless Chromium.

A tool that is missing skips the test on a developer's machine, but fails it in CI (CI=true),
where .ci/run installs Node's packages and Chromium.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import struct
import subprocess
import tempfile
import zlib
from pathlib import Path

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
