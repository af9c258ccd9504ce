"""One root cause, one finding: an untrusted certificate, a closed port or a refused password makes every later
check fail with the same words. The checks report what they meet here; the verdict then names the first
check of Step 1 that failed of it, and says of the later ones that they were not checked because of it.

A check "meets" a cause when one of its own requests fails of it, or when its message quotes the words of
such a failure that this process met before (a value read once and shared, such as the connection user's
account, carries the failure's words into every check that uses it)."""

from __future__ import annotations

import threading

TLS = "tls"
CONNECTION = "connection"
ADDRESS = "address"  # CRM_URL itself is wrong (http:// on a TLS port): no later check can have run, met or not
_SIGN_IN = "sign-in:"

# Which checks are about a cause: they keep their own finding even when an earlier check failed of it.
OWNERS = {TLS: {"R1.2"}, CONNECTION: {"R1.1"}}
SIGN_IN_OWNERS = {"R1.4", "R1.5"}
_MAX_WORDS = 64  # the distinct failure texts remembered: a run meets few, and the first ones decide

_lock = threading.Lock()
_check: set[str] = set()  # the causes the running check met (one check at a time in a process; its threads add)
_words: dict[str, set[str]] = {}  # a failure's words -> the causes they stand for, for this process's run


def sign_in(username: str | None) -> str:
    return f"{_SIGN_IN}{username or ''}"


def owns(requirement: str, cause: str) -> bool:
    return requirement in (SIGN_IN_OWNERS if cause.startswith(_SIGN_IN) else OWNERS.get(cause, ()))


def reset() -> None:
    """A new run in this process (the project's tests run many)."""
    with _lock:
        _check.clear()
        _words.clear()


def begin() -> None:
    """A new check starts."""
    with _lock:
        _check.clear()


def met(cause: str, words: str | None = None) -> None:
    """The running check met this cause; `words` is the text it was said in."""
    with _lock:
        _check.add(cause)
        if words and (words in _words or len(_words) < _MAX_WORDS):
            _words.setdefault(words, set()).add(cause)


def of_message(message: str) -> tuple[str, ...]:
    """The causes the running check met, and those whose words its message quotes."""
    with _lock:
        causes = set(_check)
        for words, kinds in _words.items():
            if words in message:
                causes |= kinds
    return tuple(sorted(causes))
