"""tools/collect-server-facts.sh against a real Apache (with mod_php) that this test configures and starts
on a loopback port: the facts it reports must be the configuration it was given, and they drive R2.3."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest

from readiness import sizing
from readiness.config import load_settings

ROOT = Path(__file__).resolve().parents[2]
COLLECTOR = ROOT / "tools" / "collect-server-facts.sh"
SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
APACHE = shutil.which("apache2", path=SEARCH_PATH) or shutil.which("httpd", path=SEARCH_PATH)
APACHECTL = shutil.which("apache2ctl", path=SEARCH_PATH) or shutil.which("apachectl", path=SEARCH_PATH) or APACHE
MODULE_DIRS = (Path("/usr/lib/apache2/modules"), Path("/usr/lib64/httpd/modules"), Path("/usr/lib/httpd/modules"))


def _modules() -> Path | None:
    return next((d for d in MODULE_DIRS if (d / "mod_mpm_prefork.so").exists() and list(d.glob("libphp*.so"))), None)


@pytest.fixture(scope="module")
def modules() -> Path:
    """Apache's module folder, with the prefork MPM and mod_php; CI must have them, elsewhere the test skips."""
    found = _modules() if APACHE and sys.platform != "win32" else None
    if found is None:
        reason = ("Apache with mod_php is not installed (apt-get install apache2 libapache2-mod-php php-cli): the "
                  "server facts collector is proven against a real Apache")
        if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
            pytest.fail(f"{reason} — .ci/run installs it in CI")
        pytest.skip(reason)
    return found


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


@contextmanager
def running_apache(folder: Path, modules: Path, *, max_workers: int, server_limit: int, keep_alive_timeout: int,
                   memory_limit: str, opcache: bool):
    """An Apache of our own (its own ServerRoot, config and loopback port), stopped at the end whatever happens."""
    folder.mkdir(parents=True)
    (folder / "php").mkdir()
    (folder / "php" / "php.ini").write_text(f"memory_limit = {memory_limit}\nopcache.enable = {int(opcache)}\n",
                                            encoding="utf-8")
    import pwd  # POSIX only, like Apache here

    run_as = ""
    if os.geteuid() == 0:  # Apache refuses to serve as root: its children become an ordinary user
        user = next(u for u in ("www-data", "apache", "nobody") if _user_exists(u))
        run_as = f"User {user}\nGroup #{pwd.getpwnam(user).pw_gid}\n"
    php_module = sorted(modules.glob("libphp*.so"))[-1]
    config = folder / "apache2.conf"
    config.write_text(f"""ServerRoot "{folder}"
ServerName 127.0.0.1
Listen 127.0.0.1:{free_port()}
DefaultRuntimeDir "{folder}"
PidFile "{folder}/apache2.pid"
ErrorLog "{folder}/error.log"
LoadModule mpm_prefork_module {modules}/mod_mpm_prefork.so
LoadModule authz_core_module {modules}/mod_authz_core.so
LoadModule php_module {php_module}
{run_as}DocumentRoot "{folder}"
PHPIniDir "{folder}/php"
IncludeOptional conf.d/*.conf
""", encoding="utf-8")
    (folder / "conf.d").mkdir()
    (folder / "conf.d" / "tuning.conf").write_text(f"""<IfModule mpm_prefork_module>
    StartServers 3
    MinSpareServers 3
    MaxSpareServers 3
    ServerLimit {server_limit}
    MaxRequestWorkers {max_workers}
</IfModule>
<IfModule mpm_event_module>
    MaxRequestWorkers 999
</IfModule>
KeepAlive On
KeepAliveTimeout {keep_alive_timeout}
""", encoding="utf-8")
    pid_file = folder / "apache2.pid"
    started = subprocess.run([APACHE, "-f", str(config), "-k", "start"], capture_output=True, text=True, timeout=30)
    master = None
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (pid_file.exists() and len(children_of(_pid(pid_file))) >= 3):
            time.sleep(0.1)
        if not pid_file.exists():
            log = (folder / "error.log").read_text(errors="replace") if (folder / "error.log").exists() else ""
            pytest.fail(f"Apache did not start: {started.stdout}{started.stderr}{log}")
        master = _pid(pid_file)
        yield config, master
    finally:
        subprocess.run([APACHE, "-f", str(config), "-k", "stop"], capture_output=True, timeout=30)
        deadline = time.monotonic() + 10
        while master and _alive(master) and time.monotonic() < deadline:
            time.sleep(0.1)
        if master and _alive(master):
            os.kill(master, signal.SIGKILL)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def _pid(pid_file: Path) -> int:
    return int(pid_file.read_text().strip() or 0)


def children_of(pid: int) -> list[int]:
    listing = subprocess.run(["ps", "-e", "-o", "pid=", "-o", "ppid="], capture_output=True, text=True).stdout
    return [int(p) for p, parent in (line.split() for line in listing.splitlines()) if int(parent) == pid]


def collect(config: Path, out: Path, *extra: str, **env) -> dict:
    done = subprocess.run(["sh", str(COLLECTOR), "--apachectl", APACHECTL, "--config", str(config), "-o", str(out),
                           *extra], capture_output=True, text=True, timeout=60, env={**os.environ, **env})
    assert done.returncode == 0, done.stderr
    assert f"wrote {out}" in done.stderr
    return json.loads(out.read_text(encoding="utf-8"))


def sized(facts_file: Path, **env) -> dict:
    settings = load_settings({"CRM_URL": "https://crm.example.com", "READINESS_ENV_FILE": "none",
                              "READINESS_SERVER_FACTS": str(facts_file), **env})
    return {o.subject: o for o in sizing.judge(settings)}


def test_the_facts_are_the_configuration_of_a_well_tuned_apache(tmp_path, modules):
    with running_apache(tmp_path / "apache", modules, max_workers=12, server_limit=16, keep_alive_timeout=3,
                        memory_limit="192M", opcache=True) as (config, master):
        facts = collect(config, tmp_path / "facts.json")
        # The same facts when mod_info cannot dump the configuration and PHP's command line is not used.
        by_hand = collect(config, tmp_path / "facts-by-hand.json", "--php", "none", RIVA_FACTS_NO_DUMP="1")
        workers = children_of(master)
    assert {k: v for k, v in facts.items() if k != "collected_at"} == \
        {k: v for k, v in by_hand.items() if k != "collected_at"}
    assert facts["schema"] == "riva-readiness-server-facts/1"
    assert (facts["mpm"], facts["max_request_workers"], facts["server_limit"]) == ("prefork", 12, 16)
    assert (facts["keep_alive"], facts["keep_alive_timeout_s"]) == (True, 3)
    assert (facts["php_handler"], facts["php_memory_limit_mb"], facts["opcache"]) == ("mod_php", 192, True)
    assert facts["web_server"].startswith("Apache/2.4")
    assert facts["worker_process"] in ("apache2", "httpd") and facts["worker_count"] == len(workers) == 3
    assert 1 < facts["worker_rss_avg_mb"] <= facts["worker_rss_p95_mb"] < 1024
    meminfo = Path("/proc/meminfo").read_text()
    assert facts["ram_mb"] == int(meminfo.split("MemTotal:")[1].split()[0]) // 1024
    assert facts["unavailable"] == {"php_fpm_max_children": "PHP does not run under PHP-FPM here"}
    # What the collector wrote drives R2.3, through the same setting a real run uses.
    outcomes = sized(tmp_path / "facts.json", READINESS_INTERACTIVE_USERS="4")
    assert all(o.passed for o in outcomes.values()), [o.message for o in outcomes.values()]
    assert "12 workers (MaxRequestWorkers)" in outcomes[sizing.MEMORY].message


def test_the_facts_of_a_mis_tuned_apache_fail_the_sizing_rules(tmp_path, modules):
    with running_apache(tmp_path / "apache", modules, max_workers=20, server_limit=10, keep_alive_timeout=15,
                        memory_limit="1G", opcache=False) as (config, _):
        facts = collect(config, tmp_path / "facts.json")
    assert (facts["max_request_workers"], facts["server_limit"], facts["keep_alive_timeout_s"]) == (20, 10, 15)
    assert (facts["php_memory_limit_mb"], facts["opcache"]) == (1024, False)
    outcomes = sized(tmp_path / "facts.json")
    failed = {subject: o.advisory for subject, o in outcomes.items() if not o.passed}
    assert failed == {sizing.SERVER_LIMIT: False, sizing.KEEP_ALIVE: True, sizing.OPCACHE: False}
    assert "ServerLimit 10 is below MaxRequestWorkers 20" in outcomes[sizing.SERVER_LIMIT].message


def test_without_apache_every_apache_fact_is_null_with_the_reason(tmp_path):
    if sys.platform == "win32":
        pytest.skip("the collector is a POSIX shell script for the CRM host")
    out = tmp_path / "facts.json"
    done = subprocess.run(["sh", str(COLLECTOR), "--apachectl", "no-such-apachectl", "--php-ini-dir", str(tmp_path),
                           "-o", str(out)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    facts = json.loads(out.read_text(encoding="utf-8"))
    assert facts["ram_mb"] > 0 and facts["mpm"] is None and facts["max_request_workers"] is None
    assert facts["unavailable"]["mpm"].startswith("no Apache control command found")
    assert facts["unavailable"]["opcache"] == f"no readable php.ini in {tmp_path}"
    # Such a file is still valid input: R2.3 then says what it cannot judge, and why.
    outcomes = sized(out)
    assert "cannot be judged: max_request_workers is unknown (no Apache control command found" in \
        outcomes[sizing.CEILING].message
