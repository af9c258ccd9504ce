"""The target mailboxes from the mail system's directory (Active Directory, or any LDAP server), as Riva's
sync policies pick them: the members of a group (nested groups followed), or the entries of a filter.

Riva matches the mailbox's primary SMTP address to the CRM user's primary e-mail. In AD that address is
the `proxyAddresses` value with the upper-case `SMTP:` prefix (lower-case `smtp:` values are secondary);
`mail` counts only where an entry has no `proxyAddresses`. Entries Riva cannot sync (disabled accounts,
accounts without a mailbox, contacts, groups where no group is followed) are reported, never dropped.

The directory is read while the settings are loaded: every fault is one ConfigError line naming the
setting and the fix, before any CRM request. Each operation has a time limit, the whole read a total one.
"""

from __future__ import annotations

import re
import ssl
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

from ldap3 import BASE, NONE, SUBTREE, Connection, Server, Tls
from ldap3.core import exceptions as ldap_errors
from ldap3.operation.search import parse_filter
from ldap3.utils.conv import escape_filter_chars

from .errors import ConfigError
from .targets import _ADDRESS, Target

SETTINGS = ("RIVA_TARGETS_LDAP_URL", "RIVA_TARGETS_LDAP_PLAIN", "RIVA_TARGETS_LDAP_BIND_DN",
            "RIVA_TARGETS_LDAP_PASSWORD", "RIVA_TARGETS_LDAP_BASE_DN", "RIVA_TARGETS_LDAP_CA_BUNDLE",
            "RIVA_TARGETS_LDAP_GROUP", "RIVA_TARGETS_LDAP_FILTER")

PAGE_SIZE = 500  # asked for; a server may return fewer per page (AD's MaxPageSize is 1000, OpenLDAP's size.pr)
MAX_DEPTH = 10  # nested groups followed at most this deep
MAX_GROUPS = 500  # groups read at most
MAX_ENTRIES = 200_000  # directory entries read at most
PAGED_RESULTS = "1.2.840.113556.1.4.319"  # RFC 2696 simple paged results control
ACCOUNTDISABLE = 0x2  # userAccountControl bit 2
ATTRIBUTES = ["objectClass", "proxyAddresses", "mail", "userAccountControl"]
GROUP_CLASSES = {"group", "groupofnames", "groupofuniquenames"}  # AD; OpenLDAP
USER_CLASSES = {"user", "person", "organizationalperson", "inetorgperson"}


@dataclass(frozen=True)
class LdapSource:
    """The directory settings, checked; `password` is never printed (repr) and is one of the run's secrets."""

    url: str
    host: str
    port: int
    use_ssl: bool
    start_tls: bool
    base_dn: str
    group: str | None
    filter: str | None
    bind_dn: str | None = None
    password: str | None = field(default=None, repr=False)
    ca_bundle: Path | None = None
    timeout: float = 15.0  # each operation: connect, and every answer
    total: float = 900.0  # the whole read
    where: Callable[[str], str] = field(default=lambda name: name, repr=False, compare=False)

    @property
    def description(self) -> str:
        chosen = f"group {self.group}" if self.group else f"filter {self.filter} under {self.base_dn}"
        # the report says how the bind password crossed the network; ldaps:// says it in the URL
        transport = ("" if self.use_ssl else ", StartTLS" if self.start_tls
                     else ", plain LDAP without TLS: RIVA_TARGETS_LDAP_PLAIN=yes")
        return f"{chosen} ({self.url}{transport})"


@dataclass(frozen=True)
class Finding:
    """Something about the directory's target list a person must look at; subject: an address or a DN."""

    subject: str
    message: str
    blocking: bool = False  # True: the target list is wrong (R4.1 fails); False: advisory
    verifiable: bool = True


@dataclass(frozen=True)
class DirectoryTargets:
    source: str
    targets: tuple[Target, ...]
    findings: tuple[Finding, ...] = ()
    groups: tuple[str, ...] = ()  # every group read, the configured one first
    entries: int = 0  # directory entries read


@dataclass(frozen=True)
class Mailbox:
    dn: str
    primary: str
    secondary: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()


# -- the settings ------------------------------------------------------------------------------------------

def source_from(lookup: Callable[[str], str | None], where: Callable[[str], str], path: Callable[[str], Path | None],
                timeout: float, total: float) -> LdapSource | None:
    """The directory settings, or None when RIVA_TARGETS_LDAP_URL is not set; bad values are ConfigErrors."""
    url = lookup("RIVA_TARGETS_LDAP_URL")
    if url is None:
        others = [name for name in SETTINGS if lookup(name) is not None]
        if others:
            raise ConfigError(f"{where(others[0])} is set but RIVA_TARGETS_LDAP_URL is not — set it to the directory's "
                              "address, e.g. ldaps://dc1.corp.example, or remove the RIVA_TARGETS_LDAP_ settings")
        return None
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    try:
        port = parts.port
    except ValueError:
        port = -1
    if scheme not in ("ldap", "ldaps") or not parts.hostname or port == -1 or parts.path.strip("/"):
        raise ConfigError(f"{where('RIVA_TARGETS_LDAP_URL')}={url!r} — write ldaps://host[:port] (or ldap://host, "
                          "which uses StartTLS)")
    plain = (lookup("RIVA_TARGETS_LDAP_PLAIN") or "no").lower()
    if plain not in ("yes", "no"):
        raise ConfigError(f"{where('RIVA_TARGETS_LDAP_PLAIN')}={plain!r} — use yes (ldap:// without TLS: the bind "
                          "password crosses the network in clear) or no")
    if plain == "yes" and scheme == "ldaps":
        raise ConfigError(f"{where('RIVA_TARGETS_LDAP_PLAIN')}=yes contradicts {where('RIVA_TARGETS_LDAP_URL')}="
                          f"{url!r} — remove RIVA_TARGETS_LDAP_PLAIN (ldaps:// is encrypted)")
    bind_dn, password = lookup("RIVA_TARGETS_LDAP_BIND_DN"), lookup("RIVA_TARGETS_LDAP_PASSWORD")
    if bool(bind_dn) != bool(password):
        missing = "RIVA_TARGETS_LDAP_PASSWORD" if bind_dn else "RIVA_TARGETS_LDAP_BIND_DN"
        raise ConfigError(f"{missing} is not set — the directory is read as RIVA_TARGETS_LDAP_BIND_DN with "
                          "RIVA_TARGETS_LDAP_PASSWORD (set both, or neither for an anonymous bind)")
    base_dn = lookup("RIVA_TARGETS_LDAP_BASE_DN")
    if base_dn is None:
        raise ConfigError("RIVA_TARGETS_LDAP_BASE_DN is not set — give the DN under which the users are, e.g. "
                          "DC=corp,DC=example")
    group, search_filter = lookup("RIVA_TARGETS_LDAP_GROUP"), lookup("RIVA_TARGETS_LDAP_FILTER")
    if bool(group) == bool(search_filter):
        raise ConfigError("set one of RIVA_TARGETS_LDAP_GROUP (the DN of the group Riva's sync policy uses) and "
                          "RIVA_TARGETS_LDAP_FILTER (an LDAP filter selecting the mailboxes)"
                          + (", not both" if group else ""))
    if search_filter:
        try:
            parse_filter(search_filter, None, True, True, None, False)
        except ldap_errors.LDAPInvalidFilterError as exc:
            raise ConfigError(f"{where('RIVA_TARGETS_LDAP_FILTER')}: {search_filter!r} is not an LDAP filter ({exc}) "
                              "— write it in parentheses, e.g. (&(objectClass=user)(department=Sales))") from None
    return LdapSource(url=url, host=parts.hostname, port=port or (636 if scheme == "ldaps" else 389),
                      use_ssl=scheme == "ldaps", start_tls=scheme == "ldap" and plain == "no", base_dn=base_dn,
                      group=group, filter=search_filter, bind_dn=bind_dn, password=password,
                      ca_bundle=path("RIVA_TARGETS_LDAP_CA_BUNDLE"), timeout=timeout, total=total, where=where)


# -- the AD rules for the primary address (pure: unit-tested on plain values) ----------------------------------

def _values(attributes, name: str) -> list[str]:
    value = attributes.get(name)
    if value is None:
        return []
    values = value if isinstance(value, list | tuple) else [value]
    return [v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v) for v in values if str(v).strip()]


def mailbox_of(dn: str, attributes) -> Mailbox | Finding:
    """One user entry as Riva sees it: its primary SMTP address, or why it is no mailbox Riva can sync."""
    names = _values(attributes, "objectClass")
    classes = {c.casefold() for c in names}
    if "contact" in classes:
        return Finding(dn, f"{dn} is a contact, not a user account: Riva syncs the mailboxes of users — remove it "
                           "from the group or the filter")
    if "computer" in classes:
        return Finding(dn, f"{dn} is a computer account, not a mailbox — remove it from the group or the filter")
    if not classes & USER_CLASSES:
        return Finding(dn, f"{dn} is not a user account (objectClass {', '.join(sorted(names, key=str.casefold)) or 'none'}) — "
                           "remove it from the group or the filter")
    control = _values(attributes, "userAccountControl")
    if control and control[0].lstrip("-").isdigit() and int(control[0]) & ACCOUNTDISABLE:
        return Finding(dn, f"{dn} is a disabled account (userAccountControl {control[0]} has bit 2, ACCOUNTDISABLE): "
                           "Riva cannot sync it — enable it or remove it from the group")
    proxies = _values(attributes, "proxyAddresses")
    mail = _values(attributes, "mail")
    primaries = [v[5:].strip() for v in proxies if v.startswith("SMTP:")]  # the prefix's case is the flag
    secondary = tuple(v[5:].strip() for v in proxies if v.startswith("smtp:"))
    notes: list[str] = []
    if proxies:
        if not primaries:
            return Finding(dn, f"{dn} has proxyAddresses but none with the primary prefix SMTP: (upper case) — set "
                               "the mailbox's primary SMTP address", blocking=True)
        if len(primaries) > 1:
            return Finding(dn, f"{dn} has {len(primaries)} primary SMTP: addresses ({', '.join(primaries)}) — keep "
                               "one upper-case SMTP: value", blocking=True)
        primary = primaries[0]
        if mail and mail[0] != primary:
            notes.append(f"mail {mail[0]} differs from the primary SMTP address {primary}: Riva uses the primary "
                         "SMTP address — make mail identical to it")
    elif mail:
        primary = mail[0]  # no proxyAddresses: the directory has no Exchange data, mail is the address
    else:
        return Finding(dn, f"{dn} has no mailbox (no proxyAddresses SMTP: value and no mail) — remove it from the "
                           "group, or give it a mailbox")
    if not _ADDRESS.match(primary):
        return Finding(dn, f"{dn}: the primary address '{primary}' is not an e-mail address — fix it in the "
                           "directory", blocking=True)
    return Mailbox(dn, primary, tuple(s for s in secondary if s.casefold() != primary.casefold()), tuple(notes))


def _normal_dn(dn: str) -> str:
    return re.sub(r"\s*([,=+])\s*", r"\1", dn.strip()).casefold()


# -- reading the directory -------------------------------------------------------------------------------------

def read_directory(source: LdapSource, csv_targets: tuple[Target, ...] = ()) -> DirectoryTargets:
    """The mailboxes of the group (or filter), joined to the targets file's rows by address."""
    reader = _Reader(source)
    try:
        reader.connect()
        if source.group:
            mailboxes, findings = reader.group_members()
        else:
            mailboxes, findings = reader.filtered()
    finally:
        reader.close()
    targets, joined = join(mailboxes, csv_targets, source.description)
    return DirectoryTargets(source.description, targets, tuple(findings) + joined, tuple(reader.groups),
                            reader.entries)


def join(mailboxes: list[Mailbox], rows: tuple[Target, ...], source: str) -> tuple[tuple[Target, ...], tuple[Finding, ...]]:
    """The directory decides who the targets are; a targets file row adds its password_env, joined by address."""
    findings: list[Finding] = []
    by_primary: dict[str, Mailbox] = {}
    for mailbox in sorted(mailboxes, key=lambda m: (m.primary.casefold(), m.dn)):
        key = mailbox.primary.casefold()
        if key in by_primary:
            findings.append(Finding(mailbox.primary, f"{mailbox.primary} is the primary address of both "
                                    f"{by_primary[key].dn} and {mailbox.dn} — Riva needs one mailbox per address",
                                    blocking=True))
            continue
        by_primary[key] = mailbox
    by_secondary = {s.casefold(): m for m in by_primary.values() for s in m.secondary}
    rows_by_address = {}
    for row in rows:
        key = row.email.casefold()
        if key in by_primary:
            rows_by_address[key] = row
        elif key in by_secondary:
            mailbox = by_secondary[key]
            findings.append(Finding(row.email, f"{row.email} (targets file line {row.line}) is only a secondary smtp: "
                                    f"address of {mailbox.dn}, whose primary SMTP address is {mailbox.primary} — "
                                    f"write {mailbox.primary} in the targets file", blocking=True))
        else:
            findings.append(Finding(row.email, f"{row.email} (targets file line {row.line}) is not a mailbox of the "
                                    f"{source} — add the user to it, or remove the row", blocking=True))
    targets = []
    for key, mailbox in by_primary.items():
        row = rows_by_address.get(key)
        targets.append(Target(email=mailbox.primary, line=row.line if row else 0,
                              password_env=row.password_env if row else None, source_dn=mailbox.dn,
                              secondary_addresses=mailbox.secondary, directory_notes=mailbox.notes))
    return tuple(targets), tuple(findings)


class _Reader:
    def __init__(self, source: LdapSource):
        self.source = source
        self.deadline = time.monotonic() + source.total
        self.connection: Connection | None = None
        self.groups: list[str] = []
        self.entries = 0
        self.referrals: list[str] = []
        self.page_size = PAGE_SIZE

    # every fault of the directory becomes one line naming the setting and the fix
    def fail(self, setting: str, problem: str, fix: str) -> ConfigError:
        return ConfigError(f"{self.source.where(setting)}: {problem} — {fix}")

    def connect(self) -> None:
        s = self.source
        tls = None
        if s.use_ssl or s.start_tls:
            tls = Tls(validate=ssl.CERT_REQUIRED, ca_certs_file=str(s.ca_bundle) if s.ca_bundle else None,
                      sni=s.host)
        # ldap3 packs the receive timeout as whole seconds (SO_RCVTIMEO)
        seconds = max(1, round(s.timeout))
        server = Server(s.host, port=s.port, use_ssl=s.use_ssl, tls=tls, get_info=NONE, connect_timeout=seconds)
        self.connection = Connection(server, user=s.bind_dn, password=s.password, read_only=True,
                                     receive_timeout=seconds, auto_referrals=False, auto_range=True,
                                     raise_exceptions=False, return_empty_attributes=False)
        try:
            self.connection.open()
            if s.start_tls:
                self.connection.start_tls()
        except (ldap_errors.LDAPSocketOpenError, ldap_errors.LDAPStartTLSError, ldap_errors.LDAPCertificateError,
                ldap_errors.LDAPSocketReceiveError, ldap_errors.LDAPSessionTerminatedByServerError, OSError) as exc:
            raise self.open_fault(exc) from None
        if not self.call(self.connection.bind):
            result = self.connection.result or {}
            if result.get("description") in ("invalidCredentials", "invalidDNSyntax"):
                raise self.fail("RIVA_TARGETS_LDAP_BIND_DN", f"the directory refused the bind as {s.bind_dn} "
                                f"({result.get('description')})", "check the bind DN (or user@domain) and "
                                "RIVA_TARGETS_LDAP_PASSWORD")
            if result.get("description") == "confidentialityRequired":
                raise self.fail("RIVA_TARGETS_LDAP_URL", "the directory requires an encrypted connection for the bind",
                                "use ldaps://, or ldap:// without RIVA_TARGETS_LDAP_PLAIN")
            raise self.fail("RIVA_TARGETS_LDAP_BIND_DN", f"the bind as {s.bind_dn or '(anonymous)'} failed "
                            f"({_describe(result)})", "check the bind DN and RIVA_TARGETS_LDAP_PASSWORD")

    def open_fault(self, exc: Exception) -> ConfigError:
        s = self.source
        text = str(exc)
        if "CERTIFICATE_VERIFY_FAILED" in text or "certificate verify failed" in text or \
                isinstance(exc, ldap_errors.LDAPCertificateError) or "doesn't match" in text:
            reason = "its name does not match" if "doesn't match" in text else "it is not signed by a trusted CA"
            return self.fail("RIVA_TARGETS_LDAP_URL", f"the certificate of {s.host}:{s.port} does not verify ({reason})",
                             "set RIVA_TARGETS_LDAP_CA_BUNDLE to the PEM file of the CA that signed it, and use the "
                             "host name the certificate names")
        if isinstance(exc, ldap_errors.LDAPStartTLSError) or (s.start_tls and "start_tls" in text.lower()):
            return self.fail("RIVA_TARGETS_LDAP_URL", f"{s.host}:{s.port} refused StartTLS ({text[:120]})",
                             "use ldaps://, or enable TLS on the server (RIVA_TARGETS_LDAP_PLAIN=yes sends the "
                             "password in clear: only on a trusted network)")
        if "timed out" in text or isinstance(exc, TimeoutError):
            return self.timeout_fault()
        return self.fail("RIVA_TARGETS_LDAP_URL", f"cannot reach {s.host}:{s.port} ({_short(text)})",
                         "check the host name, the port (636 for ldaps://, 389 for ldap://) and the firewall "
                         "from this host")

    def timeout_fault(self) -> ConfigError:
        s = self.source
        return self.fail("RIVA_TARGETS_LDAP_URL", f"{s.host}:{s.port} did not answer within {s.timeout:g} s "
                         "(CRM_TIMEOUT)", "check that it is an LDAP server and that it is not overloaded, or raise "
                         "CRM_TIMEOUT")

    def call(self, operation, *args, **kwargs):
        """One LDAP operation, within the total bound; a dropped or silent connection is a ConfigError."""
        if time.monotonic() > self.deadline:
            raise self.fail("READINESS_TIME_LIMIT", f"reading the directory took longer than {self.source.total:g} s",
                            "narrow RIVA_TARGETS_LDAP_BASE_DN, or check the directory's load")
        try:
            return operation(*args, **kwargs)
        except ldap_errors.LDAPResponseTimeoutError:
            raise self.timeout_fault() from None
        except (ldap_errors.LDAPSocketReceiveError, ldap_errors.LDAPSocketSendError,
                ldap_errors.LDAPSessionTerminatedByServerError) as exc:
            if "timed out" in str(exc):
                raise self.timeout_fault() from None
            raise self.fail("RIVA_TARGETS_LDAP_URL", f"the connection to {self.source.host}:{self.source.port} "
                            f"broke ({_short(str(exc))})", "check the server and the network, then run again") from None

    def close(self) -> None:
        if self.connection is not None:
            try:
                self.connection.unbind()
            except Exception:  # noqa: BLE001 - closing a broken connection may fail; nothing depends on it
                pass

    def base_entry(self, dn: str, setting: str, what: str, attributes=("objectClass",)) -> dict:
        """The entry at dn (BASE search), or a ConfigError naming the setting that names it."""
        found = self.call(self.connection.search, dn, "(objectClass=*)", BASE, attributes=list(attributes))
        result = self.connection.result or {}
        if result.get("description") in ("noSuchObject", "invalidDNSyntax"):
            raise self.fail(setting, f"{dn} does not exist in the directory ({result['description']})",
                            f"give the DN of {what}, as shown in its distinguishedName attribute")
        if result.get("description") == "referral":
            raise self.fail(setting, f"{dn} is not held by {self.source.host} (the server refers to "
                            f"{', '.join(result.get('referrals') or []) or 'another server'})",
                            "point RIVA_TARGETS_LDAP_URL at a domain controller of that domain")
        entries = [r for r in self.connection.response or [] if r.get("type") == "searchResEntry"]
        if not found or not entries:
            raise self.fail(setting, f"{dn} cannot be read ({_describe(result)})",
                            "give the bind account read access to it")
        return entries[0]["attributes"]

    def paged(self, base: str, search_filter: str, setting: str) -> Iterator[tuple[str, dict]]:
        """Every entry of a subtree search, page by page (RFC 2696); referrals are counted, never followed."""
        cookie = None
        while True:
            self.call(self.connection.search, base, search_filter, SUBTREE, attributes=ATTRIBUTES,
                      paged_size=self.page_size, paged_cookie=cookie)
            result = self.connection.result or {}
            if result.get("description") == "adminLimitExceeded" and cookie is None and self.page_size > 1:
                self.page_size //= 2  # OpenLDAP refuses pages above its size.pr limit; AD shortens them itself
                continue
            if result.get("result") not in (0, None):
                if result.get("description") == "sizeLimitExceeded":
                    raise self.fail(setting, f"the directory stopped the search at its size limit "
                                    f"({_describe(result)}) although it was paged", "allow the bind account paged "
                                    "searches (OpenLDAP: limits size.pr; AD: MaxPageSize)")
                if result.get("description") == "timeLimitExceeded":
                    raise self.timeout_fault()
                raise self.fail(setting, f"the search for {search_filter} under {base} failed ({_describe(result)})",
                                "check the setting and the bind account's rights")
            for item in self.connection.response or []:
                if item.get("type") == "searchResRef":
                    self.referrals.extend(item.get("uri") or [])
                elif item.get("type") == "searchResEntry":
                    self.entries += 1
                    if self.entries > MAX_ENTRIES:
                        raise self.fail(setting, f"more than {MAX_ENTRIES} directory entries", "choose a smaller "
                                        "group or a narrower filter (the suite reads at most this many)")
                    yield item["dn"], item["attributes"]
            cookie = (result.get("controls") or {}).get(PAGED_RESULTS, {}).get("value", {}).get("cookie")
            if not cookie:
                return

    def check_base(self) -> None:
        self.base_entry(self.source.base_dn, "RIVA_TARGETS_LDAP_BASE_DN", "the domain or OU that holds the users, "
                        "e.g. DC=corp,DC=example")

    def filtered(self) -> tuple[list[Mailbox], list[Finding]]:
        self.check_base()
        mailboxes, findings = [], []
        for dn, attributes in self.paged(self.source.base_dn, self.source.filter, "RIVA_TARGETS_LDAP_FILTER"):
            if {c.casefold() for c in _values(attributes, "objectClass")} & GROUP_CLASSES:
                findings.append(Finding(dn, f"{dn} is a group: RIVA_TARGETS_LDAP_FILTER selects mailboxes and does not "
                                        "expand groups — set RIVA_TARGETS_LDAP_GROUP to follow a group's members"))
                continue
            found = mailbox_of(dn, attributes)
            (mailboxes if isinstance(found, Mailbox) else findings).append(found)
        return mailboxes, findings + self.referral_findings()

    def group_members(self) -> tuple[list[Mailbox], list[Finding]]:
        """The group's members through paged searches on memberOf (AD; OpenLDAP's memberof overlay), nested groups
        followed breadth-first; the group's own `member` list (ranged retrieval in AD) shows who was missed."""
        self.check_base()
        top = self.source.group
        attributes = self.base_entry(top, "RIVA_TARGETS_LDAP_GROUP", "the group Riva's sync policy uses",
                                     ("objectClass", "member"))
        classes = _values(attributes, "objectClass")
        if not {c.casefold() for c in classes} & GROUP_CLASSES:
            raise self.fail("RIVA_TARGETS_LDAP_GROUP", f"{top} is not a group (objectClass "
                            f"{', '.join(sorted(classes, key=str.casefold))})", "give the DN of the group Riva's sync policy uses")
        mailboxes: dict[str, Mailbox] = {}
        findings: list[Finding] = []
        queue = [(top, (_normal_dn(top),), attributes)]
        seen = {_normal_dn(top)}
        while queue:
            group, path, group_attributes = queue.pop(0)
            self.groups.append(group)
            if len(self.groups) > MAX_GROUPS:
                raise self.fail("RIVA_TARGETS_LDAP_GROUP", f"{top} nests more than {MAX_GROUPS} groups",
                                "use a flatter group for Riva's policy, or RIVA_TARGETS_LDAP_FILTER")
            members = {_normal_dn(m): m for m in _values(group_attributes, "member")}
            found = set()
            for dn, entry in self.paged(self.source.base_dn, f"(memberOf={escape_filter_chars(group)})",
                                        "RIVA_TARGETS_LDAP_GROUP"):
                key = _normal_dn(dn)
                found.add(key)
                if {c.casefold() for c in _values(entry, "objectClass")} & GROUP_CLASSES:
                    if key in path:
                        findings.append(Finding(dn, f"{dn} is nested in itself (through {group}): the cycle was "
                                                "detected and each group read once — remove the loop"))
                    elif key not in seen:
                        if len(path) >= MAX_DEPTH:
                            raise self.fail("RIVA_TARGETS_LDAP_GROUP", f"groups are nested more than {MAX_DEPTH} deep "
                                            f"below {top} (at {dn})", "use a flatter group for Riva's policy")
                        seen.add(key)
                        nested = self.base_entry(dn, "RIVA_TARGETS_LDAP_GROUP", "a nested group",
                                                 ("objectClass", "member"))
                        queue.append((dn, path + (key,), nested))
                    continue
                if key in mailboxes:
                    continue
                result = mailbox_of(dn, entry)
                if isinstance(result, Mailbox):
                    mailboxes[key] = result
                else:
                    findings.append(result)
            missing = [dn for key, dn in members.items() if key not in found]
            if members and not found:
                raise self.fail("RIVA_TARGETS_LDAP_GROUP", f"{group} has {len(members)} members, but a search for "
                                f"(memberOf={group}) under {self.source.base_dn} finds none",
                                "check that the members are under RIVA_TARGETS_LDAP_BASE_DN and that the directory "
                                "maintains memberOf (OpenLDAP: the memberof overlay), or use RIVA_TARGETS_LDAP_FILTER")
            findings += [Finding(dn, f"{dn}, a member of {group}, was not found under {self.source.base_dn}: it is "
                                 "outside RIVA_TARGETS_LDAP_BASE_DN, deleted, or not readable by the bind account — "
                                 "its mailbox cannot be checked", blocking=True, verifiable=False) for dn in missing]
        return list(mailboxes.values()), findings + self.referral_findings()

    def referral_findings(self) -> list[Finding]:
        if not self.referrals:
            return []
        shown = ", ".join(sorted(set(self.referrals))[:3])
        return [Finding(self.source.base_dn, f"{len(self.referrals)} referrals to other servers were not followed "
                        f"({shown}): entries held there are not read — narrow RIVA_TARGETS_LDAP_BASE_DN to the "
                        "users' domain if they live elsewhere")]


def _describe(result: dict) -> str:
    words = [result.get("description") or f"result {result.get('result')}", (result.get("message") or "").strip()]
    return _short(": ".join(w for w in words if w))


def _short(text: str) -> str:
    text = " ".join(text.split())
    return text if len(text) <= 160 else text[:157] + "…"
