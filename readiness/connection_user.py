"""Step 3: the Riva connection user (R3.1 to R3.5), read through the API as that user."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from .client import CrmApi
from .errors import AccessDenied, AuthenticationFailed, CrmError, NotFound
from .fields_meta import FieldsMeta
from .outcome import Outcome
from .targets import Target
from .users import USER_FIELDS, CrmUser, Directory

# [assumed] names under which a server may expose a password's expiry date; 1CRM documents none.
PASSWORD_EXPIRY_FIELDS = ("password_expires", "pwd_expires", "password_expiration")
PASSWORD_WARNING_DAYS = 14


@dataclass(frozen=True)
class Account:
    """The connection user's own CRM record, or why it could not be read."""

    user: CrmUser | None
    problem: str | None = None


def read_account(api: CrmApi) -> Account:
    try:
        user_id = str(api.me()["id"]).split(":", 1)[-1]  # /me answers "Users:<id>"
        return Account(CrmUser.from_record(api.read("User", user_id, fields=USER_FIELDS)))
    except AuthenticationFailed as exc:
        return Account(None, f"{api.username} cannot sign in ({exc}): the account may be missing, inactive or an "
                             "Info Only user, or its password wrong")
    except (AccessDenied, NotFound) as exc:
        return Account(None, f"{api.username} cannot read its own user record: {exc}")


def active_ordinary_user(account: Account) -> Outcome:
    """R3.1"""
    if account.user is None:
        return Outcome.fail(account.problem)
    user = account.user
    if user.kind_problem:
        return Outcome.fail(f"the connection user {user.label} {user.kind_problem}, so Riva cannot act as it: Riva "
                            "needs an active, ordinary user account")
    if user.unknown:
        return Outcome.not_verifiable(f"the connection user {user.label} {user.unknown} — check its status in 1CRM "
                                      "(Admin → Users)")
    return Outcome.ok(f"the connection user {user.label} exists and is an active user, {user.ordinary}")


def make_administrator(user_name: str) -> str:
    """The fix, where 1CRM keeps it: administrator is a flag of the user account (is_admin), not an ACL role."""
    return (f"in 1CRM, Admin → User Management, open {user_name}, Edit, tick Administrator and save (a flag of "
            "the user account, is_admin, not a role under Admin → Roles)")


def administrator(account: Account) -> Outcome:
    """R3.2"""
    if account.user is None:
        return Outcome.fail(account.problem)
    user = account.user
    if user.is_admin is None:
        return Outcome.not_verifiable(f"the server's reply has no is_admin flag for the connection user "
                                      f"{user.label}: check by hand that Administrator is ticked on its user record "
                                      f"(in 1CRM, Admin → User Management, open {user.user_name}; a flag of the "
                                      "user account, is_admin, not a role)")
    if not user.is_admin:
        return Outcome.fail(f"the connection user {user.label} is not an administrator, as Riva's impersonation "
                            f"needs — {make_administrator(user.user_name)}")
    return Outcome.ok(f"the connection user {user.label} is an administrator")


def sees_users(load_directory) -> Outcome:
    """R3.3: listing users works to the last page (matching every target depends on it)."""
    try:
        directory: Directory = load_directory()
    except AccessDenied as exc:
        directory = Directory([], problem=f"the connection user cannot list users through the API ({exc})")
    if directory.problem:
        return Outcome.fail(f"{directory.problem}: Riva could not find any target user — make the connection user "
                            "an administrator (Administrator ticked on its user record), and check that the User "
                            "module is exposed through the API")
    return Outcome.ok(f"the connection user lists all {len(directory.users)} CRM users")


def dedicated(account: Account, directory: Directory, targets: tuple[Target, ...]) -> Outcome:
    """R3.4 (advisory): the connection user is not itself one of the mailboxes Riva syncs."""
    if account.user is None:
        return Outcome.not_verifiable(f"the connection user's account could not be read: {account.problem}")
    if directory.problem:
        return Outcome.not_verifiable(f"the target users cannot be matched: {directory.problem} (see R3.3)")
    user = account.user
    shared = [t.email for t in targets if (m := directory.match(t.email).user) is not None and m.id == user.id]
    if shared:
        return Outcome.fail(f"the connection user {user.label} is also the target user of {', '.join(shared)}: use a "
                            "dedicated service account (e.g. riva_svc) that syncs no mailbox", advisory=True)
    return Outcome.ok(f"the connection user {user.label} is a dedicated account: it is none of the {len(targets)} "
                      "target users")


def password_expiry(api: CrmApi, user_meta: FieldsMeta, account: Account, today: date | None = None) -> Outcome:
    """R3.5 (advisory): an expired connection-user password locks Riva out of every target user.
    `user_meta`: the User model's field metadata."""
    if account.user is None:
        return Outcome.not_verifiable(f"the connection user's account could not be read: {account.problem}")
    # every way the API leaves the expiry open ends in the same manual check
    by_hand = (f"check by hand: in 1CRM, Admin → Password Management, and Admin → User Management → "
               f"{account.user.user_name}: its password does not expire within {PASSWORD_WARNING_DAYS} days")
    if not user_meta.readable:
        return Outcome.not_verifiable(f"the User field list cannot be read ({user_meta.problem}) — {by_hand}")
    field = next((f for f in PASSWORD_EXPIRY_FIELDS if user_meta.has(f)), None)
    if field is None:
        return Outcome.not_verifiable(f"the server does not expose password expiry through the API — {by_hand}")
    try:
        record = api.read("User", account.user.id, fields=[field])
    except CrmError as exc:
        return Outcome.not_verifiable(f"the {field} of {account.user.label} cannot be read ({exc}) — {by_hand}")
    value = str(record.get(field) or "").strip()
    if not value:
        return Outcome.ok(f"the password of {account.user.label} does not expire")
    try:
        expires = date.fromisoformat(value[:10])
    except ValueError:
        return Outcome.not_verifiable(f"the password expiry '{value}' is not a date — {by_hand}")
    days = (expires - (today or datetime.now(UTC).date())).days
    if days < PASSWORD_WARNING_DAYS:
        when = f"expired on {expires}" if days < 0 else f"expires on {expires}, in {days} days"
        return Outcome.fail(f"the password of {account.user.label} {when}: Riva will be locked out of every target "
                            "user — set a password that does not expire for the service account", advisory=True)
    return Outcome.ok(f"the password of {account.user.label} expires on {expires}, in {days} days")
