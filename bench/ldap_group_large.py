"""Benchmark: the target mailboxes of a 20,000-member group (in a nested group) read from a real OpenLDAP
(Debian's slapd, started like tests/ldap_server.py does, pages of at most 500 entries). Prints the time to
read the directory, the pages it took and the peak memory the read added.

    python bench/ldap_group_large.py [--members 20000]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from ldap_server import SUFFIX, group, running_slapd, user  # noqa: E402

from readiness.config import load_settings  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=20_000)
    args = parser.parse_args()
    people, groups = f"ou=people,{SUFFIX}", f"ou=groups,{SUFFIX}"
    members = [f"cn=User {i:05},{people}" for i in range(args.members)]
    ldif = "".join(f"dn: {ou}\nobjectClass: organizationalUnit\nou: {ou[3:].split(',')[0]}\n\n" for ou in (people, groups))
    ldif += "\n".join(user(dn, proxies=(f"SMTP:user{i:05}@corp.example", f"smtp:u{i:05}@corp.example"))
                      for i, dn in enumerate(members))
    ldif += "\n" + group(f"cn=Riva Staff,{groups}", members) + "\n" + group(f"cn=Riva Sync,{groups}", [f"cn=Riva Staff,{groups}"])
    with tempfile.TemporaryDirectory() as folder, running_slapd(Path(folder) / "slapd", page_size=500) as slapd:
        started = time.perf_counter()
        slapd.load(ldif)
        print(f"loaded {args.members} users into slapd in {time.perf_counter() - started:.1f} s")
        env = {"CRM_URL": "https://crm.example.com", **slapd.env(RIVA_TARGETS_LDAP_GROUP=f"cn=Riva Sync,{groups}")}
        tracemalloc.start()
        started = time.perf_counter()
        settings = load_settings(env, env_file=None)
        wall = time.perf_counter() - started
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    d = settings.directory
    assert len(settings.targets) == args.members and not d.findings, d.findings[:3]
    print(f"read {len(settings.targets)} mailboxes ({d.entries} entries, groups {len(d.groups)}, "
          f"pages of at most 500) in {wall:.1f} s; peak memory of the read {peak / 2**20:.0f} MiB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
