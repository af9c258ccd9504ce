"""A real OpenLDAP server (Debian's slapd) of the test's own: its own slapd.conf, database and loopback ports
in a temp folder, AD's proxyAddresses and userAccountControl from tests/data/ad-mail.schema, the memberof
overlay (AD keeps memberOf itself), and a small size limit so that only paged searches read a big group."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

SEARCH_PATH = os.pathsep.join([os.environ.get("PATH", ""), "/usr/sbin", "/sbin"])
SLAPD = shutil.which("slapd", path=SEARCH_PATH)
LDAPADD = shutil.which("ldapadd", path=SEARCH_PATH)
SCHEMA = Path(__file__).parent / "data" / "ad-mail.schema"
SYSTEM_SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")

SUFFIX = "dc=corp,dc=example"
ADMIN_DN, ADMIN_PASSWORD = f"cn=admin,{SUFFIX}", "Admin-Secret-4711"
READER_DN, READER_PASSWORD = f"cn=riva-reader,ou=service,{SUFFIX}", "Reader-Bind-Secret-4711"


def require_slapd() -> None:
    """slapd and ldap-utils; CI must have them (.ci/run installs them), elsewhere the test skips."""
    if SLAPD and LDAPADD and (SYSTEM_SCHEMAS / "core.schema").exists() and sys.platform != "win32":
        return
    reason = "OpenLDAP is not installed (apt-get install slapd ldap-utils): the directory targets are proven against it"
    if os.environ.get("CI", "").lower() in ("true", "1", "yes"):
        pytest.fail(f"{reason} — .ci/run installs it in CI")
    pytest.skip(reason)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@dataclass
class Slapd:
    folder: Path
    port: int  # ldap:// (StartTLS offered when started with a certificate)
    tls_port: int | None  # ldaps://
    ca_bundle: Path | None

    @property
    def url(self) -> str:
        return f"ldap://127.0.0.1:{self.port}"

    @property
    def ldaps_url(self) -> str:
        return f"ldaps://localhost:{self.tls_port}"

    def load(self, ldif: str) -> None:
        """Adds the entries as the administrator, through the server (so that the memberof overlay runs)."""
        path = self.folder / f"load-{time.monotonic_ns()}.ldif"
        path.write_text(ldif, encoding="utf-8")
        done = subprocess.run([LDAPADD, "-x", "-H", self.url, "-D", ADMIN_DN, "-w", ADMIN_PASSWORD, "-f", str(path)],
                              capture_output=True, text=True, timeout=600)
        assert done.returncode == 0, done.stderr[-2000:]

    def env(self, **overrides: str) -> dict[str, str]:
        """The suite's directory settings for this server, as the read-only service account."""
        values = {"RIVA_TARGETS_LDAP_URL": self.url, "RIVA_TARGETS_LDAP_PLAIN": "yes",
                  "RIVA_TARGETS_LDAP_BIND_DN": READER_DN, "RIVA_TARGETS_LDAP_PASSWORD": READER_PASSWORD,
                  "RIVA_TARGETS_LDAP_BASE_DN": SUFFIX}
        if self.ca_bundle is not None:
            values.update(RIVA_TARGETS_LDAP_PLAIN="no", RIVA_TARGETS_LDAP_CA_BUNDLE=str(self.ca_bundle))
        values.update(overrides)
        return {k: v for k, v in values.items() if v is not None}


@contextmanager
def running_slapd(folder: Path, *, page_size: int = 10, tls: bool = False):
    """slapd in the foreground on loopback, stopped at the end whatever happens. Non-paged searches stop at
    `page_size` entries (size.soft/size.hard) and a page holds at most that many (size.pr)."""
    require_slapd()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "db").mkdir()
    tls_lines, ca_bundle, tls_port = "", None, None
    if tls:
        import trustme

        ca = trustme.CA()
        leaf = ca.issue_cert("localhost", "127.0.0.1")
        leaf.private_key_pem.write_to_path(str(folder / "server.key"))
        leaf.cert_chain_pems[0].write_to_path(str(folder / "server.pem"))
        ca.cert_pem.write_to_path(str(folder / "ca.pem"))
        ca_bundle, tls_port = folder / "ca.pem", free_port()
        tls_lines = (f"TLSCACertificateFile {folder}/ca.pem\nTLSCertificateFile {folder}/server.pem\n"
                     f"TLSCertificateKeyFile {folder}/server.key\n")
    includes = "".join(f"include {SYSTEM_SCHEMAS}/{name}.schema\n" for name in ("core", "cosine", "inetorgperson"))
    config = folder / "slapd.conf"
    config.write_text(f"""{includes}include {SCHEMA}
modulepath {MODULES}
moduleload back_mdb
moduleload memberof
pidfile {folder}/slapd.pid
argsfile {folder}/slapd.args
{tls_lines}sizelimit size.soft={page_size} size.hard={page_size} size.pr={page_size} size.prtotal=unlimited
database mdb
maxsize 2147483648
suffix "{SUFFIX}"
rootdn "{ADMIN_DN}"
rootpw {ADMIN_PASSWORD}
directory {folder}/db
index objectClass eq
index memberOf eq
overlay memberof
memberof-group-oc groupOfNames
memberof-member-ad member
memberof-memberof-ad memberOf
access to attrs=userPassword by anonymous auth by * none
access to * by users read by * none
""", encoding="utf-8")
    port = free_port()
    urls = f"ldap://127.0.0.1:{port}/" + (f" ldaps://127.0.0.1:{tls_port}/" if tls_port else "")
    log = (folder / "slapd.log").open("w")
    process = subprocess.Popen([SLAPD, "-f", str(config), "-h", urls, "-d", "0"], stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 15
        while not _listening(port):
            if process.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"slapd did not start: {(folder / 'slapd.log').read_text(errors='replace')[-2000:]}")
            time.sleep(0.05)
        server = Slapd(folder, port, tls_port, ca_bundle)
        server.load(f"""dn: {SUFFIX}
objectClass: dcObject
objectClass: organization
dc: corp
o: Corp

dn: ou=service,{SUFFIX}
objectClass: organizationalUnit
ou: service

dn: {READER_DN}
objectClass: person
cn: riva-reader
sn: reader
userPassword: {READER_PASSWORD}
""")
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        log.close()


def _listening(port: int) -> bool:
    with socket.socket() as probe:
        probe.settimeout(0.2)
        return probe.connect_ex(("127.0.0.1", port)) == 0


def user(dn: str, *, proxies: tuple[str, ...] = (), mail: str | None = None, control: int | None = 512) -> str:
    """An AD-like user: inetOrgPerson with the auxiliary class that carries proxyAddresses and userAccountControl."""
    cn = dn.split(",", 1)[0].split("=", 1)[1]
    lines = [f"dn: {dn}", "objectClass: inetOrgPerson", "objectClass: adMailRecipient", f"cn: {cn}",
             f"sn: {cn.split()[-1]}"]
    lines += [f"proxyAddresses: {p}" for p in proxies]
    lines += [f"mail: {mail}"] if mail else []
    lines += [f"userAccountControl: {control}"] if control is not None else []
    return "\n".join(lines) + "\n"


def group(dn: str, members: list[str]) -> str:
    cn = dn.split(",", 1)[0].split("=", 1)[1]
    return "\n".join([f"dn: {dn}", "objectClass: groupOfNames", f"cn: {cn}", *(f"member: {m}" for m in members)]) + "\n"


def referral(dn: str, url: str) -> str:
    """An entry another server holds (RFC 3296): a subtree search returns its URL, never its entries."""
    ou = dn.split(",", 1)[0].split("=", 1)[1]
    return "\n".join([f"dn: {dn}", "objectClass: referral", "objectClass: extensibleObject", f"ou: {ou}",
                      f"ref: {url}"]) + "\n"
