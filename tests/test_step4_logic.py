"""Matching, role evaluation, ownership and the ledger, without a server."""

from __future__ import annotations

import os
import signal
import sys

import pytest

from readiness.errors import AccessDenied, NotFound
from readiness.interrupts import deferred_interrupts
from readiness.ledger import Ledger
from readiness.markers import Marker
from readiness.probes import ProbeResult, is_probe_record, ownership_outcome
from readiness.roles import Role, judge
from readiness.users import CrmUser, Directory


def user(user_name, email1, email2="", status="Active", admin="0", portal="0", group="0", uid=None):
    return CrmUser.from_record({"id": uid or user_name, "user_name": user_name, "first_name": user_name.title(),
                                "email1": email1, "email2": email2, "status": status, "is_admin": admin,
                                "portal_only": portal, "is_group": group})


DIRECTORY = Directory([
    user("ann", "ann@example.com"),
    user("old", "old@example.com", status="Inactive"),
    user("twin1", "twin@example.com"), user("twin2", "twin@example.com"),
    user("revived1", "revived@example.com", status="Inactive"), user("revived2", "revived@example.com"),
    user("sec", "sec@example.com", email2="alias@example.com"),
    user("Case", "Case.User@Example.com"),
])


@pytest.mark.parametrize("address, passed, advisory, words", [
    ("ann@example.com", True, False, "matches exactly one active user: ann"),
    ("old@example.com", False, False, "is inactive"),
    ("twin@example.com", False, False, "2 active CRM users share"),
    ("revived@example.com", True, False, "revived2"),  # an inactive namesake does not count
    ("alias@example.com", False, False, "only a secondary e-mail matches (sec"),
    ("nobody@example.com", False, False, "no CRM user has this primary e-mail"),
    ("case.user@example.com", False, True, "only when ignoring letter case"),
    (" ann@example.com", False, True, "ignoring letter case or spaces"),
])
def test_matching_diagnoses(address, passed, advisory, words):
    outcome = DIRECTORY.match(address).outcome
    assert (outcome.passed, outcome.advisory, outcome.subject) == (passed, advisory, address)
    assert words in outcome.message


def role(name, members=(), **modules):
    return Role(name, name, {module: dict(actions) for module, actions in modules.items()}, set(members))


def test_most_restrictive_role_wins_and_messages_read_like_riva():
    sales = role("Sales", Meetings={"delete": 90})
    strict = role("Strict", Meetings={"delete": -99}, Leads={"export": -99})
    outcome = judge("a@x.org", user("a", "a@x.org"), [sales, strict], ("Meeting", "Lead", "Contact"))
    assert not outcome.passed and not outcome.advisory
    assert outcome.message == ("target user a cannot delete Meeting records: role 'Strict' denies delete; "
                               "cannot export Lead records: role 'Strict' denies export")


def test_disabled_module_owner_only_admin_and_no_role():
    disabled = judge("a@x.org", user("a", "a@x.org"), [role("R", Calls={"access": -98, "edit": 90})], ("Call",))
    assert "the Calls module is disabled by role 'R'" in disabled.message
    owner = judge("a@x.org", user("a", "a@x.org"), [role("R", Accounts={"edit": 75})], ("Account",))
    assert not owner.passed and owner.advisory and "only its own Account records" in owner.message
    assert judge("a@x.org", user("a", "a@x.org", admin="1"), [role("R", Calls={"access": -98})], ("Call",)).passed
    assert judge("a@x.org", user("a", "a@x.org"), [], ("Call",)).passed


def test_ownership_names_the_wrong_owner():
    alice = user("alice", "alice@x.org", uid="u-alice")
    mine = {"assigned_user_id": "u-alice", "created_by": "u-alice", "modified_user_id": "u-alice"}
    good = ProbeResult("Meeting", None, mine, mine)
    bad = ProbeResult("Call", None, {**mine, "created_by": "u-admin"}, {**mine, "modified_user_id": "u-admin"})
    assert ownership_outcome("alice@x.org", alice, [good]).passed
    outcome = ownership_outcome("alice@x.org", alice, [good, bad])
    assert not outcome.passed
    assert "the Call probe record is created by 'u-admin', not alice" in outcome.message
    assert "modified by 'u-admin'" in outcome.message
    assert not ownership_outcome("alice@x.org", alice, [ProbeResult("Task", "cannot create")]).verifiable


def test_probe_records_are_recognised_exactly():
    record = {"name": "riva-readiness-probe 20261124T231039Z-f61f39",
              "description": "Created by the Riva readiness suite to test a target user's rights; safe to delete."}
    assert is_probe_record("Meeting", record)
    assert not is_probe_record("Meeting", {**record, "name": "riva-readiness-probe minutes"})
    assert not is_probe_record("Meeting", {**record, "description": "real notes"})
    assert not is_probe_record("Contact", record)  # contacts carry the marker in last_name


class FakeApi:
    """Records deletions; may deny them, like a role without delete rights."""

    username = "alice"

    def __init__(self, deny=False):
        self.deny, self.deleted, self.records = deny, [], {}

    def create(self, model, data):
        record_id = f"{model}-{len(self.records)}"
        self.records[record_id] = data
        return record_id

    def delete(self, model, record_id):
        if self.deny:
            raise AccessDenied("access denied", module=model, action="delete")
        self.deleted.append(record_id)
        self.records.pop(record_id, None)

    def read(self, model, record_id, fields=()):
        if record_id not in self.records:
            raise NotFound("gone")
        return self.records[record_id]


def test_ledger_undoes_newest_first_and_falls_back_to_the_connection_user():
    target, admin = FakeApi(deny=True), FakeApi()
    ledger = Ledger(lambda: admin)
    meeting, call = Marker.new("Meeting", "20261124T231039Z-f61f39"), Marker.new("Call", "20261124T231039Z-f61f39")
    first = ledger.create(target, meeting, meeting.data())
    second = ledger.create(target, call, call.data())
    admin.records = dict(target.records)  # the administrator sees the same records
    assert ledger.undo() == []
    assert admin.deleted == [second, first] and ledger.pending == []


def test_ledger_forgets_records_the_check_removed_itself():
    api = FakeApi()
    ledger = Ledger(lambda: api)
    task = Marker.new("Task", "20261124T231039Z-f61f39")
    record_id = ledger.create(api, task, task.data())
    api.delete("Task", record_id)
    ledger.settled("Task", record_id)
    assert ledger.undo() == [] and api.deleted == [record_id]


@pytest.mark.skipif(sys.platform == "win32", reason="raises SIGTERM in-process")
def test_interrupts_are_held_back_until_cleanup_is_done():
    done = []
    with pytest.raises(KeyboardInterrupt, match="deferred"):
        with deferred_interrupts():
            os.kill(os.getpid(), signal.SIGINT)
            done.append("cleanup finished")
    assert done == ["cleanup finished"]
