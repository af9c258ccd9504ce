"""CRM users as Riva sees them: listed once, matched to mailboxes by primary e-mail (R4.2).

Riva matches a mailbox only when exactly one active CRM user has that address as primary e-mail
(email1), and that user is neither a group nor a portal-only user. Matching is done in memory
over one paged listing: never one request per target.

A field the reply lacks is not verifiable, never a default value (1crm-api.md §3, §6): a user
without `status` is not Active, and `is_group` is used only where the server returns it.
"""

from __future__ import annotations

from dataclasses import dataclass

from .client import CrmApi
from .errors import AccessDenied, NotFound, UnexpectedReply
from .outcome import Outcome

USER_FIELDS = ("id", "user_name", "first_name", "last_name", "email1", "email2", "status", "is_admin",
               "portal_only", "is_group")
# 1crm-api.md §6 [source]: the three values of User.status; any other is not verifiable.
ACTIVE, INACTIVE, INFO_ONLY = "Active", "Inactive", "Info Only"
STATUSES = (ACTIVE, INACTIVE, INFO_ONLY)
_TRUE, _FALSE = ("1", "true", "yes", "on"), ("0", "false", "no", "off", "")


def _flag(record: dict, name: str) -> bool | None:
    """The API sends "0"/"1" strings; None: the field is not in the reply, or not a flag."""
    if record.get(name) is None:
        return None
    value = str(record[name]).strip().lower()
    return True if value in _TRUE else False if value in _FALSE else None


def _text(value) -> str:
    """A text field as text, whatever JSON type a server sent (a number is not an e-mail address, but no crash)."""
    return value if isinstance(value, str) else "" if value is None else str(value)


def _normal(address: str | None) -> str:
    return (address or "").strip().casefold()


@dataclass(frozen=True)
class CrmUser:
    id: str
    user_name: str
    name: str
    email1: str
    email2: str
    status: str | None  # None: the reply has no status
    is_admin: bool | None  # None: not in the reply (not verifiable)
    portal_only: bool | None
    is_group: bool | None  # None: the server does not expose group users (info@hand's User has no such field)

    @classmethod
    def from_record(cls, record: dict) -> CrmUser:
        if not isinstance(record.get("id"), str) or not all(isinstance(record.get(k), (str, type(None)))
                                                           for k in ("user_name", "email1", "email2")):
            shown = {k: record.get(k) for k in ("id", "user_name", "email1")}
            raise UnexpectedReply(f"unexpected reply from server: a user record without a text id, user_name or "
                                  f"e-mail address ({shown})")
        text = {k: _text(record.get(k)) for k in ("user_name", "first_name", "last_name", "email1", "email2")}
        name = " ".join(filter(None, (text["first_name"], text["last_name"])))
        status = record.get("status")
        return cls(
            id=str(record["id"]), user_name=text["user_name"], name=name or text["user_name"],
            email1=text["email1"], email2=text["email2"],
            status=str(status).strip() if status is not None else None, is_admin=_flag(record, "is_admin"),
            portal_only=_flag(record, "portal_only"), is_group=_flag(record, "is_group"),
        )

    @property
    def label(self) -> str:
        return f"{self.user_name} ({self.name})" if self.name and self.name != self.user_name else self.user_name

    @property
    def active(self) -> bool:
        return self.status == ACTIVE

    @property
    def kind_problem(self) -> str | None:
        """Why Riva cannot act as this user, if the reply shows that it cannot."""
        if self.status == INFO_ONLY:
            return "is an Info Only user (cannot sign in)"
        if self.status == INACTIVE:
            return "is inactive"
        if self.is_group:
            return "is a group user"
        if self.portal_only:
            return "is a portal-only user"
        return None

    @property
    def unknown(self) -> str | None:
        """What the reply leaves open about whether Riva can act as this user (not verifiable)."""
        if self.status is None:
            return "has no status in the server's reply: whether it is Active cannot be verified"
        if self.status not in STATUSES:
            return f"has the status '{self.status}', which is none of {', '.join(STATUSES)}: not verifiable"
        if self.portal_only is None:
            return "has no readable portal_only flag in the server's reply: whether it is a portal-only user " \
                   "cannot be verified"
        return None

    @property
    def usable(self) -> bool:
        """Riva can act as this user, as far as the reply shows."""
        return self.kind_problem is None and self.unknown is None

    @property
    def ordinary(self) -> str:
        """What was verified about the kind of user, said honestly where groups are not exposed."""
        if self.is_group is None:
            return "not a portal-only user (the server does not expose group users: check by hand that it is " \
                   "not a group mailbox)"
        return "neither a group nor a portal-only user"


def list_users(api: CrmApi) -> list[CrmUser]:
    """Every CRM user, in pages of 200, with the fields matching needs."""
    return [CrmUser.from_record(record) for record in api.list("User", fields=USER_FIELDS)]


def load_directory(api: CrmApi) -> Directory:
    """The users' directory; a 403/404 on the listing is a directory that knows why it is empty (R3.3)."""
    try:
        return Directory(list_users(api))
    except (AccessDenied, NotFound) as exc:
        return Directory([], problem=f"the connection user cannot list users through the API (HTTP {exc.status}: "
                                     f"{exc})")
    except UnexpectedReply as exc:  # HTML, null or a wrong shape: R3.3 fails on it, with the reply (fail safe)
        return Directory([], problem=f"listing users through the API gave an unexpected reply ({exc})")


@dataclass(frozen=True)
class Match:
    address: str
    user: CrmUser | None  # the user Riva would act as, when there is exactly one candidate
    outcome: Outcome


class Directory:
    """Every CRM user, indexed by normalised primary and secondary e-mail."""

    def __init__(self, users: list[CrmUser], problem: str | None = None):
        self.users = users
        self.problem = problem  # why the users could not be listed (R3.3 failed)
        self._primary: dict[str, list[CrmUser]] = {}
        self._secondary: dict[str, list[CrmUser]] = {}
        for user in users:
            if user.email1:
                self._primary.setdefault(_normal(user.email1), []).append(user)
            if user.email2:
                self._secondary.setdefault(_normal(user.email2), []).append(user)

    def match(self, address: str) -> Match:
        """The R4.2 diagnosis for one mailbox, with its own message for each way matching fails."""
        if self.problem:
            return Match(address, None, Outcome.not_verifiable(
                f"{address} could not be matched: {self.problem} (see R3.3)", subject=address))
        candidates = self._primary.get(_normal(address), [])
        active = [u for u in candidates if u.active]
        unknown = [u for u in candidates if u.status not in (ACTIVE, INACTIVE, INFO_ONLY)]
        if not candidates:
            secondary = self._secondary.get(_normal(address), [])
            if secondary:
                names = ", ".join(u.label for u in secondary)
                return self._fail(address, None, f"only a secondary e-mail matches ({names} has it as email2); Riva "
                                                 "matches the primary e-mail — make it the user's primary address")
            return self._fail(address, None, "no CRM user has this primary e-mail address — create the user or fix "
                                             "its primary e-mail")
        if len(active) > 1:
            names = ", ".join(u.label for u in active)
            return self._fail(address, None, f"{len(active)} active CRM users share this primary e-mail ({names}); "
                                             "Riva needs exactly one")
        if unknown and (active or len(unknown) > 1):
            names = ", ".join(u.label for u in active + unknown)
            return Match(address, None, Outcome.not_verifiable(
                f"{len(active) + len(unknown)} CRM users have this primary e-mail ({names}) and not every status is "
                "readable: whether exactly one is active cannot be verified — check their status in 1CRM",
                subject=address))
        user = (active or unknown or candidates)[0]
        if user.kind_problem:
            return self._fail(address, user, f"the matching CRM user {user.label} {user.kind_problem}, so Riva "
                                             "cannot act as them")
        if user.unknown:
            return Match(address, user, Outcome.not_verifiable(
                f"the matching CRM user {user.label} {user.unknown} — check the user in 1CRM (Admin → Users)",
                subject=address))
        if user.email1 != address:
            return Match(address, user, Outcome.fail(
                f"matches {user.label} only when ignoring letter case or spaces (CRM has '{user.email1}'); Riva "
                "expects identical values — make them identical", subject=address, advisory=True))
        return Match(address, user, Outcome.ok(f"matches exactly one active user: {user.label}, {user.ordinary}",
                                               subject=address))

    @staticmethod
    def _fail(address: str, user: CrmUser | None, message: str) -> Match:
        return Match(address, user, Outcome.fail(message, subject=address))
