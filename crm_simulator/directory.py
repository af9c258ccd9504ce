"""The mail system's directory that goes with a preset: an LDIF of one mailbox per target, AD-style.

Each target becomes a user entry with `proxyAddresses: SMTP:<target>` (its primary SMTP address), `mail` and
`userAccountControl: 512` (a normal, enabled account), in the group Riva's policy syncs: `cn=Riva Sync` holds
the first target and the nested group `cn=Riva Sync Team`, which holds the others. A mailbox whose address a CRM
user holds only as e-mail 2 also carries that user's primary e-mail as a secondary `smtp:` address, as a real
Exchange mailbox would: the healthy preset has none, target-secondary-email has exactly this mismatch.

The entries use the attribute types of tests/data/ad-mail.schema (or AD's own) and OpenLDAP's groupOfNames;
load them under an existing base DN with ldapadd (the memberof overlay then keeps memberOf, as AD does).
"""

from __future__ import annotations

from .schema import USER_MODEL
from .store import Store

GROUP = "cn=Riva Sync,ou=groups"
NESTED_GROUP = "cn=Riva Sync Team,ou=groups"


def group_dn(base_dn: str) -> str:
    return f"{GROUP},{base_dn}"


def ldif(store: Store, mailboxes: list[str], base_dn: str) -> str:
    users, _ = store.list(USER_MODEL, fields=["email1", "email2"], limit=1_000_000)
    primary_of_email2 = {}
    for user in users:
        if user.get("email2") and user.get("email1"):
            primary_of_email2.setdefault(user["email2"].casefold(), user["email1"])
    blocks = [f"dn: ou={ou},{base_dn}\nobjectClass: organizationalUnit\nou: {ou}\n" for ou in ("people", "groups")]
    dns = []
    for index, address in enumerate(mailboxes):
        dn = f"cn=mailbox {index:05} {address.split('@')[0]},ou=people,{base_dn}"
        dns.append(dn)
        lines = [f"dn: {dn}", "objectClass: inetOrgPerson", "objectClass: adMailRecipient",
                 f"cn: {dn.split(',')[0][3:]}", f"sn: {address.split('@')[0]}", f"proxyAddresses: SMTP:{address}"]
        secondary = primary_of_email2.get(address.casefold())
        if secondary and secondary.casefold() != address.casefold():
            lines.append(f"proxyAddresses: smtp:{secondary}")
        lines += [f"mail: {address}", "userAccountControl: 512"]
        blocks.append("\n".join(lines) + "\n")
    nested = [f"member: {dn}" for dn in dns[1:]]
    if nested:
        blocks.append("\n".join([f"dn: {NESTED_GROUP},{base_dn}", "objectClass: groupOfNames", "cn: Riva Sync Team",
                                 *nested]) + "\n")
    members = [f"member: {dn}" for dn in dns[:1]] + ([f"member: {NESTED_GROUP},{base_dn}"] if nested else [])
    blocks.append("\n".join([f"dn: {group_dn(base_dn)}", "objectClass: groupOfNames", "cn: Riva Sync", *members]) + "\n")
    return "\n".join(blocks)
