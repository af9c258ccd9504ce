"""The target mailboxes from a directory, proven against a real OpenLDAP (tests/ldap_server.py): AD's rules for
the primary SMTP address, nested groups, paging, the targets file joined by address, and every fault as one
ConfigError line naming the setting and the fix, before any CRM request."""

from __future__ import annotations

import socket
import threading
from dataclasses import replace
from pathlib import Path
from types import SimpleNamespace

import pytest
from ldap3 import SUBTREE, Connection, Server

from readiness import ldap_targets, target_users
from readiness.config import load_settings
from readiness.errors import ConfigError
from readiness.ldap_targets import Finding, Mailbox, mailbox_of, read_directory
from readiness.targets import Target
from readiness.users import CrmUser, Directory
from ldap_server import READER_DN, READER_PASSWORD, SUFFIX, free_port, group, referral, running_slapd, user

PEOPLE, GROUPS, CONTACTS = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}", f"ou=contacts,{SUFFIX}"
SYNC, SALES = f"cn=Riva Sync,{GROUPS}", f"cn=Riva Sales,{GROUPS}"
BULK = 25  # more than the server's page (10): only paged searches read them all


def dn(cn: str, ou: str = PEOPLE) -> str:
    return f"cn={cn},{ou}"


def directory_ldif() -> str:
    """Every case of Riva's address rules, a nested group with more members than a page, and a cycle."""
    ous = "".join(f"dn: {ou}\nobjectClass: organizationalUnit\nou: {ou.split(',')[0][3:]}\n\n"
                  for ou in (PEOPLE, GROUPS, CONTACTS))
    people = [
        user(dn("Anna Berg"), proxies=("SMTP:anna.berg@corp.example", "smtp:anna@corp.example", "X500:/o=corp/cn=anna"),
             mail="anna.berg@corp.example"),
        user(dn("Carl Clark"), proxies=("SMTP:carl.clark@corp.example",), mail="c.clark@corp.example"),
        user(dn("Dora Dune"), mail="dora.dune@corp.example"),  # no proxyAddresses: mail is the address
        user(dn("Dave Dormant"), proxies=("SMTP:dave.dormant@corp.example",), control=514),  # 512 | ACCOUNTDISABLE
        user(dn("Erik Empty"), control=512),  # no mailbox at all
        user(dn("Frank Fuzzy"), proxies=("smtp:frank@corp.example",)),  # only a secondary address
        f"dn: {dn('Paul Partner', CONTACTS)}\nobjectClass: contact\ncn: Paul Partner\nsn: Partner\n"
        "mail: paul@partner.example\n",
        *(user(dn(f"Bulk {i:02}"), proxies=(f"SMTP:bulk{i:02}@corp.example",)) for i in range(BULK)),
    ]
    groups = [
        group(SALES, [dn(f"Bulk {i:02}") for i in range(BULK)]),
        group(SYNC, [dn(n) for n in ("Anna Berg", "Carl Clark", "Dora Dune", "Dave Dormant", "Erik Empty",
                                      "Frank Fuzzy", "Ghost Gone")] + [dn("Paul Partner", CONTACTS), SALES]),
        # the nested group also holds the outer one: a cycle, read once
        f"dn: {SALES}\nchangetype: modify\nadd: member\nmember: {SYNC}\n",
    ]
    return ous + "\n".join(people) + "\n" + "\n".join(groups)


@pytest.fixture(scope="module")
def slapd(tmp_path_factory):
    with running_slapd(tmp_path_factory.mktemp("slapd"), page_size=10, tls=True) as server:
        server.load(directory_ldif())
        yield server


def settings(server, tmp_path: Path | None = None, csv: str | None = None, **overrides):
    env = {"CRM_URL": "https://crm.example.com", "READINESS_ENV_FILE": "none", **server.env(**overrides)}
    if csv is not None:
        (tmp_path / "targets.csv").write_text(csv, encoding="utf-8")
        env["RIVA_TARGETS_FILE"] = str(tmp_path / "targets.csv")
    env.update({k: v for k, v in overrides.items() if k.startswith("PROBE_")})
    return load_settings({k: v for k, v in env.items() if v is not None})


def refused(server, **overrides) -> str:
    with pytest.raises(ConfigError) as caught:
        settings(server, **overrides)
    return str(caught.value)


# -- AD's rules, on plain values ------------------------------------------------------------------------------

@pytest.mark.parametrize("attributes, expected", [
    ({"objectClass": ["user"], "proxyAddresses": ["smtp:b@x.example", "SMTP:a@x.example"], "mail": ["a@x.example"]},
     Mailbox("D", "a@x.example", ("b@x.example",))),
    ({"objectClass": ["user"], "mail": "m@x.example"}, Mailbox("D", "m@x.example")),
    ({"objectClass": ["user"], "proxyAddresses": ["SMTP:a@x.example", "SMTP:b@x.example"]},
     Finding("D", "D has 2 primary SMTP: addresses (a@x.example, b@x.example) — keep one upper-case SMTP: value",
             blocking=True)),
    ({"objectClass": ["top", "person", "organizationalPerson", "user", "computer"], "mail": "pc@x.example"},
     Finding("D", "D is a computer account, not a mailbox — remove it from the group or the filter")),
    ({"objectClass": ["user"], "userAccountControl": ["66050"], "mail": "a@x.example"},
     Finding("D", "D is a disabled account (userAccountControl 66050 has bit 2, ACCOUNTDISABLE): Riva cannot sync "
                  "it — enable it or remove it from the group")),
    ({"objectClass": ["user"], "proxyAddresses": ["SMTP:not an address"]},
     Finding("D", "D: the primary address 'not an address' is not an e-mail address — fix it in the directory",
             blocking=True)),
])
def test_the_primary_smtp_address_follows_ads_rules(attributes, expected):
    assert mailbox_of("D", attributes) == expected


# -- a group, nested groups, paging --------------------------------------------------------------------------

def test_the_groups_mailboxes_and_every_entry_riva_cannot_sync(slapd):
    s = settings(slapd, RIVA_TARGETS_LDAP_GROUP=SYNC)
    by_address = {t.email: t for t in s.targets}
    assert sorted(by_address) == sorted(["anna.berg@corp.example", "carl.clark@corp.example", "dora.dune@corp.example",
                                         *(f"bulk{i:02}@corp.example" for i in range(BULK))])
    anna = by_address["anna.berg@corp.example"]
    assert (anna.source_dn, anna.secondary_addresses, anna.directory_notes) == \
        (dn("Anna Berg"), ("anna@corp.example",), ())
    assert by_address["carl.clark@corp.example"].directory_notes == (
        "mail c.clark@corp.example differs from the primary SMTP address carl.clark@corp.example: Riva uses the "
        "primary SMTP address — make mail identical to it",)
    assert all(t.password_env is None and t.line == 0 for t in s.targets)
    assert s.targets_file is None and s.directory.groups == (SYNC, SALES)
    assert {f.subject: (f.message, f.blocking, f.verifiable) for f in s.directory.findings} == {
        dn("Dave Dormant"): (f"{dn('Dave Dormant')} is a disabled account (userAccountControl 514 has bit 2, "
                             "ACCOUNTDISABLE): Riva cannot sync it — enable it or remove it from the group", False, True),
        dn("Erik Empty"): (f"{dn('Erik Empty')} has no mailbox (no proxyAddresses SMTP: value and no mail) — remove "
                           "it from the group, or give it a mailbox", False, True),
        dn("Frank Fuzzy"): (f"{dn('Frank Fuzzy')} has proxyAddresses but none with the primary prefix SMTP: (upper "
                            "case) — set the mailbox's primary SMTP address", True, True),
        dn("Paul Partner", CONTACTS): (f"{dn('Paul Partner', CONTACTS)} is a contact, not a user account: Riva syncs "
                                       "the mailboxes of users — remove it from the group or the filter", False, True),
        dn("Ghost Gone"): (f"{dn('Ghost Gone')}, a member of {SYNC}, was not found under {SUFFIX}: it is outside "
                           "RIVA_TARGETS_LDAP_BASE_DN, deleted, or not readable by the bind account — its mailbox "
                           "cannot be checked", True, False),
        SYNC: (f"{SYNC} is nested in itself (through {SALES}): the cycle was detected and each group read once — "
               "remove the loop", False, True),
    }


def test_the_server_stops_an_unpaged_search_so_the_big_group_is_read_in_pages(slapd):
    connection = Connection(Server("127.0.0.1", port=slapd.port), READER_DN, READER_PASSWORD, auto_bind=True)
    connection.search(SUFFIX, f"(memberOf={SALES})", SUBTREE, attributes=["mail"])
    assert connection.result["description"] == "sizeLimitExceeded" and len(connection.response) <= 10
    connection.unbind()
    s = settings(slapd, RIVA_TARGETS_LDAP_GROUP=SALES)  # which holds the outer group too
    assert len(s.targets) == BULK + 3 and s.directory.entries == BULK + 1 + 8


def test_nesting_deeper_than_the_bound_is_refused(slapd, monkeypatch):
    monkeypatch.setattr(ldap_targets, "MAX_DEPTH", 1)
    assert refused(slapd, RIVA_TARGETS_LDAP_GROUP=SYNC) == (
        f"environment variable RIVA_TARGETS_LDAP_GROUP: groups are nested more than 1 deep below {SYNC} (at {SALES}) "
        "— use a flatter group for Riva's policy")


def test_a_filter_selects_mailboxes_and_reports_groups_it_does_not_expand(slapd):
    s = settings(slapd, RIVA_TARGETS_LDAP_FILTER="(|(cn=Bulk 0*)(cn=Riva Sales))")
    assert sorted(t.email for t in s.targets) == [f"bulk{i:02}@corp.example" for i in range(10)]
    assert [f.message for f in s.directory.findings] == [
        f"{SALES} is a group: RIVA_TARGETS_LDAP_FILTER selects mailboxes and does not expand groups — set "
        "RIVA_TARGETS_LDAP_GROUP to follow a group's members"]


def test_the_targets_file_adds_probe_users_by_address_and_its_strays_are_findings(slapd, tmp_path):
    csv = ("email,password_env\nAnna.Berg@corp.example,PROBE_ANNA_PASSWORD\nanna@corp.example,\n"
           "stranger@corp.example,\n")
    s = settings(slapd, tmp_path, csv, RIVA_TARGETS_LDAP_GROUP=SYNC, PROBE_ANNA_PASSWORD="Probe-Anna-Secret-1")
    [anna] = [t for t in s.targets if t.is_probe_user]
    assert (anna.email, anna.line, anna.password_env, anna.source_dn) == \
        ("anna.berg@corp.example", 2, "PROBE_ANNA_PASSWORD", dn("Anna Berg"))
    assert s.probe_password("PROBE_ANNA_PASSWORD") == "Probe-Anna-Secret-1"
    strays = {f.subject: f.message for f in s.directory.findings if "targets file" in f.message}
    assert strays == {
        "anna@corp.example": f"anna@corp.example (targets file line 3) is only a secondary smtp: address of "
                             f"{dn('Anna Berg')}, whose primary SMTP address is anna.berg@corp.example — write "
                             "anna.berg@corp.example in the targets file",
        "stranger@corp.example": f"stranger@corp.example (targets file line 4) is not a mailbox of the group {SYNC} "
                                 f"({slapd.url}, StartTLS) — add the user to it, or remove the row",
    }


def test_r41_reports_each_finding_and_r42_names_the_entry_and_the_exact_mismatch(slapd):
    s = settings(slapd, RIVA_TARGETS_LDAP_GROUP=SYNC)
    listed = target_users.target_list(s)
    assert listed[0].passed and listed[0].message == (
        f"the directory's group {SYNC} ({slapd.url}, StartTLS) has 28 mailboxes, 1 nested groups followed (34 entries read), "
        "0 of them probe users")
    blocking = sorted(o.subject for o in listed if not o.passed and not o.advisory)
    assert blocking == sorted([dn("Frank Fuzzy"), dn("Ghost Gone")])
    assert [o.message for o in listed if o.subject == "carl.clark@corp.example"] == [
        f"{dn('Carl Clark')}: mail c.clark@corp.example differs from the primary SMTP address carl.clark@corp.example: "
        "Riva uses the primary SMTP address — make mail identical to it"]
    crm = Directory([crm_user("anna", "anna@corp.example", "anna.berg@corp.example"),
                     crm_user("carl", "carl@corp.example"), crm_user("dora", "dora.dune@corp.example")]
                    + [crm_user(f"bulk{i:02}", f"bulk{i:02}@corp.example") for i in range(BULK)])
    run = SimpleNamespace(settings=s, directory=crm)
    by_subject = {o.subject: o for o in target_users.matches(run.settings.targets, lambda: run.directory)}
    assert by_subject["anna.berg@corp.example"].message == (
        f"primary SMTP anna.berg@corp.example ({dn('Anna Berg')}): the CRM user anna (Anna) has anna@corp.example as "
        "primary and anna.berg@corp.example only as e-mail 2 — make anna.berg@corp.example its primary e-mail")
    assert by_subject["dora.dune@corp.example"].passed
    assert by_subject["dora.dune@corp.example"].message == (
        f"primary SMTP dora.dune@corp.example ({dn('Dora Dune')}): matches exactly one active user: dora (Dora), not a "
        "portal-only user (the server does not expose group users: check by hand that it is not a group mailbox)")
    assert by_subject["carl.clark@corp.example"].message == (
        f"primary SMTP carl.clark@corp.example ({dn('Carl Clark')}): no CRM user has this primary e-mail address — "
        "create the user or fix its primary e-mail")


def test_a_crm_primary_that_is_only_a_secondary_smtp_address_is_named():
    target = Target("anna.berg@corp.example", 0, source_dn="CN=Anna Berg,DC=corp", secondary_addresses=("anna@corp.example",))
    run = SimpleNamespace(settings=SimpleNamespace(targets=(target,)),
                          directory=Directory([crm_user("anna", "anna@corp.example")]))
    [outcome] = target_users.matches(run.settings.targets, lambda: run.directory)
    assert not outcome.passed and outcome.evidence["source_dn"] == "CN=Anna Berg,DC=corp"
    assert outcome.message == (
        "primary SMTP anna.berg@corp.example (CN=Anna Berg,DC=corp): no CRM user has it as primary e-mail; the CRM user "
        "anna (Anna) has anna@corp.example as primary, which is only a secondary smtp: address of this mailbox — Riva "
        "uses the primary SMTP address: make anna.berg@corp.example the CRM user's primary e-mail (or "
        "anna@corp.example the mailbox's primary SMTP address)")


def crm_user(name, email1, email2=""):
    return CrmUser.from_record({"id": name, "user_name": name, "first_name": name.title(), "email1": email1,
                                "email2": email2, "status": "Active", "is_admin": "0", "portal_only": "0"})


# -- TLS, and every fault as one line -----------------------------------------------------------------------

def test_ldaps_with_the_ca_bundle_reads_the_group(slapd):
    s = settings(slapd, RIVA_TARGETS_LDAP_URL=slapd.ldaps_url, RIVA_TARGETS_LDAP_PLAIN=None,
                 RIVA_TARGETS_LDAP_GROUP=SYNC)
    assert len(s.targets) == BULK + 3 and s.directory.source == f"group {SYNC} ({slapd.ldaps_url})"


@pytest.mark.parametrize("url", ["ldaps", "starttls"])
def test_a_certificate_that_does_not_verify(slapd, tmp_path, url):
    import trustme

    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    address = slapd.ldaps_url if url == "ldaps" else slapd.url
    port = slapd.tls_port if url == "ldaps" else slapd.port
    host = "localhost" if url == "ldaps" else "127.0.0.1"
    assert refused(slapd, RIVA_TARGETS_LDAP_URL=address, RIVA_TARGETS_LDAP_CA_BUNDLE=str(other),
                   RIVA_TARGETS_LDAP_GROUP=SALES) == (
        f"environment variable RIVA_TARGETS_LDAP_URL: the certificate of {host}:{port} does not verify (it is not "
        "signed by a trusted CA) — set RIVA_TARGETS_LDAP_CA_BUNDLE to the PEM file of the CA that signed it, and use "
        "the host name the certificate names")


def test_bad_bind_credentials(slapd):
    assert refused(slapd, RIVA_TARGETS_LDAP_PASSWORD="wrong-password", RIVA_TARGETS_LDAP_GROUP=SYNC) == (
        f"environment variable RIVA_TARGETS_LDAP_BIND_DN: the directory refused the bind as {READER_DN} "
        "(invalidCredentials) — check the bind DN (or user@domain) and RIVA_TARGETS_LDAP_PASSWORD")


def test_a_base_dn_that_does_not_exist(slapd):
    assert refused(slapd, RIVA_TARGETS_LDAP_BASE_DN=f"ou=nowhere,{SUFFIX}", RIVA_TARGETS_LDAP_GROUP=SYNC) == (
        f"environment variable RIVA_TARGETS_LDAP_BASE_DN: ou=nowhere,{SUFFIX} does not exist in the directory "
        "(noSuchObject) — give the DN of the domain or OU that holds the users, e.g. DC=corp,DC=example, as shown in "
        "its distinguishedName attribute")


def test_a_group_that_does_not_exist_or_is_no_group(slapd):
    assert refused(slapd, RIVA_TARGETS_LDAP_GROUP=f"cn=Riva Typo,{GROUPS}") == (
        f"environment variable RIVA_TARGETS_LDAP_GROUP: cn=Riva Typo,{GROUPS} does not exist in the directory "
        "(noSuchObject) — give the DN of the group Riva's sync policy uses, as shown in its distinguishedName attribute")
    assert refused(slapd, RIVA_TARGETS_LDAP_GROUP=dn("Anna Berg")) == (
        f"environment variable RIVA_TARGETS_LDAP_GROUP: {dn('Anna Berg')} is not a group (objectClass adMailRecipient, "
        "inetOrgPerson) — give the DN of the group Riva's sync policy uses")


def test_a_filter_that_does_not_parse(slapd):
    assert refused(slapd, RIVA_TARGETS_LDAP_FILTER="(&(objectClass=user)(cn=Anna") == (
        "environment variable RIVA_TARGETS_LDAP_FILTER: '(&(objectClass=user)(cn=Anna' is not an LDAP filter "
        "(invalid filter) — write it in parentheses, e.g. (&(objectClass=user)(department=Sales))")


def test_an_unreachable_server(slapd):
    port = free_port()
    assert refused(slapd, RIVA_TARGETS_LDAP_URL=f"ldap://127.0.0.1:{port}", RIVA_TARGETS_LDAP_GROUP=SYNC).startswith(
        f"environment variable RIVA_TARGETS_LDAP_URL: cannot reach 127.0.0.1:{port} (")
    assert refused(slapd, RIVA_TARGETS_LDAP_URL=f"ldap://127.0.0.1:{port}", RIVA_TARGETS_LDAP_GROUP=SYNC).endswith(
        ") — check the host name, the port (636 for ldaps://, 389 for ldap://) and the firewall from this host")


def test_a_server_that_never_answers_is_left_after_the_time_limit(slapd):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        port = silent.getsockname()[1]
        held = []
        threading.Thread(target=lambda: held.append(silent.accept()), daemon=True).start()
        message = refused(slapd, RIVA_TARGETS_LDAP_URL=f"ldap://127.0.0.1:{port}",
                          RIVA_TARGETS_LDAP_GROUP=SYNC, CRM_TIMEOUT="1")
    assert message == (
        f"environment variable RIVA_TARGETS_LDAP_URL: 127.0.0.1:{port} did not answer within 1 s "
        "(CRM_TIMEOUT) — check that it is an LDAP server and that it is not overloaded, or raise CRM_TIMEOUT")


def test_the_whole_read_has_a_total_bound(slapd):
    source = ldap_targets.source_from(slapd.env(RIVA_TARGETS_LDAP_GROUP=SYNC).get, lambda name: name,
                                      lambda name: slapd.ca_bundle, timeout=5, total=0)
    with pytest.raises(ConfigError) as caught:
        read_directory(replace(source, total=-1))
    assert str(caught.value) == ("READINESS_TIME_LIMIT: reading the directory took longer than -1 s — narrow "
                                 "RIVA_TARGETS_LDAP_BASE_DN, or check the directory's load")


def test_the_bind_password_is_a_secret_and_never_shown(slapd):
    s = settings(slapd, RIVA_TARGETS_LDAP_GROUP=SYNC)
    assert READER_PASSWORD in s.secrets
    assert READER_PASSWORD not in repr(s) + repr(s.directory) + repr(s.targets)
    bad = refused(slapd, RIVA_TARGETS_LDAP_BASE_DN="ou=nowhere", RIVA_TARGETS_LDAP_GROUP=SYNC)
    assert READER_PASSWORD not in bad


@pytest.mark.parametrize("overrides, expected", [
    ({"RIVA_TARGETS_LDAP_URL": "https://dc1.corp.example"}, "RIVA_TARGETS_LDAP_URL='https://dc1.corp.example' — "
                                                            "write ldaps://host[:port]"),
    ({"RIVA_TARGETS_LDAP_PLAIN": "maybe"}, "RIVA_TARGETS_LDAP_PLAIN='maybe' — use yes"),
    ({"RIVA_TARGETS_LDAP_PASSWORD": None}, "RIVA_TARGETS_LDAP_PASSWORD is not set — the directory is read as"),
    ({"RIVA_TARGETS_LDAP_BASE_DN": None}, "RIVA_TARGETS_LDAP_BASE_DN is not set — give the DN"),
    ({"RIVA_TARGETS_LDAP_FILTER": "(cn=x)"}, "set one of RIVA_TARGETS_LDAP_GROUP"),
    ({"RIVA_TARGETS_LDAP_GROUP": None}, "set one of RIVA_TARGETS_LDAP_GROUP"),
])
def test_incomplete_settings_are_refused_without_a_connection(overrides, expected):
    env = {"RIVA_TARGETS_LDAP_URL": "ldaps://dc1.corp.example", "RIVA_TARGETS_LDAP_BIND_DN": "riva@corp.example",
           "RIVA_TARGETS_LDAP_PASSWORD": "x", "RIVA_TARGETS_LDAP_BASE_DN": "DC=corp,DC=example",
           "RIVA_TARGETS_LDAP_GROUP": "CN=Riva,DC=corp,DC=example", **overrides}
    with pytest.raises(ConfigError, match=expected.replace("[", r"\[").replace("(", r"\(")):
        load_settings({"CRM_URL": "https://crm.example.com", "READINESS_ENV_FILE": "none",
                       **{k: v for k, v in env.items() if v is not None}}, env_file=None)


def test_plain_ldap_needs_the_opt_in_and_starttls_is_used_otherwise(tmp_path):
    with running_slapd(tmp_path / "plain", tls=False) as plain:
        plain.load(f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
                   + user(dn("Anna Berg"), proxies=("SMTP:anna.berg@corp.example",)))
        message = refused(plain, RIVA_TARGETS_LDAP_PLAIN=None, RIVA_TARGETS_LDAP_FILTER="(cn=Anna Berg)")
        assert message.startswith(f"environment variable RIVA_TARGETS_LDAP_URL: 127.0.0.1:{plain.port} refused "
                                  "StartTLS (")
        assert message.endswith("— use ldaps://, or enable TLS on the server (RIVA_TARGETS_LDAP_PLAIN=yes sends the "
                                "password in clear: only on a trusted network)")
        s = settings(plain, RIVA_TARGETS_LDAP_PLAIN="yes", RIVA_TARGETS_LDAP_FILTER="(cn=Anna Berg)")
        assert [t.email for t in s.targets] == ["anna.berg@corp.example"]
        # the report says that the bind password crossed the network in clear
        [listed] = target_users.target_list(s)
        assert listed.message == (
            f"the directory's filter (cn=Anna Berg) under {SUFFIX} ({plain.url}, plain LDAP without TLS: "
            "RIVA_TARGETS_LDAP_PLAIN=yes) has 1 mailboxes (1 entries read), 0 of them probe users")
        assert listed.evidence["source"] == s.directory.source


def test_referrals_are_counted_and_not_followed(tmp_path):
    elsewhere = f"ldap://dc2.branch.example/ou=branch,{SUFFIX}"
    with running_slapd(tmp_path / "referral") as server:
        server.load(f"dn: {PEOPLE}\nobjectClass: organizationalUnit\nou: people\n\n"
                    + user(dn("Anna Berg"), proxies=("SMTP:anna.berg@corp.example",)) + "\n"
                    + referral(f"ou=branch,{SUFFIX}", elsewhere))
        s = settings(server, RIVA_TARGETS_LDAP_FILTER="(cn=Anna Berg)")
    assert [t.email for t in s.targets] == ["anna.berg@corp.example"]
    assert s.directory.findings == (Finding(SUFFIX, f"1 referrals to other servers were not followed ({elsewhere}??sub): "
                                            "entries held there are not read — narrow RIVA_TARGETS_LDAP_BASE_DN to "
                                            "the users' domain if they live elsewhere"),)


def test_the_simulators_directory_has_one_deliberate_mismatch_only_outside_the_healthy_preset():
    from crm_simulator import Simulator

    with Simulator("healthy") as healthy:
        clean = healthy.ldif("dc=corp,dc=example")
    with Simulator("target-secondary-email") as broken:
        mismatch = broken.ldif("dc=corp,dc=example")
    assert clean.count("proxyAddresses: SMTP:") == 2 and "proxyAddresses: smtp:" not in clean
    assert "member: cn=Riva Sync Team,ou=groups,dc=corp,dc=example" in clean  # a nested group
    assert [line for line in mismatch.splitlines() if line.startswith("proxyAddresses: smtp:")] == \
        ["proxyAddresses: smtp:gina.green@example.com"]
