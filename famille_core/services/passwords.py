"""Password hashing (Argon2id) and the password policy (CNIL 2022-100, ANSSI)."""

from __future__ import annotations

import threading
import unicodedata

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from famille_core.errors import Issue

MIN_LENGTH = 12
MAX_LENGTH = 128

_hasher = PasswordHasher()  # argon2-cffi defaults: Argon2id, RFC 9106 low-memory profile

CONCURRENT_HASHES = 4
"""Argon2 computations running at once in one process; the others wait their turn. Each takes
64 MiB (the default memory cost): a burst of logins cannot take more than 256 MiB per process
(docs/security.md point 35)."""

_hashing = threading.BoundedSemaphore(CONCURRENT_HASHES)

COMMON_WORDS = frozenset(
    {
        "motdepasse",
        "azerty",
        "qwerty",
        "123456",
        "soleil",
        "bonjour",
        "famille",
        "mairie",
        "portail",
        "cantine",
        "enfance",
        "ecole",
        "admin",
    }
)
"""Words that make a password guessable, refused whatever surrounds them."""


def hash_password(password: str) -> str:
    """The Argon2id hash of ``password`` (``$argon2id$…``)."""
    with _hashing:
        return _hasher.hash(password)


def verify_password(stored_hash: str, password: str) -> bool:
    """True when ``password`` matches ``stored_hash``."""
    try:
        with _hashing:
            return _hasher.verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    """True when the hash was made with older parameters."""
    try:
        return _hasher.check_needs_rehash(stored_hash)
    except InvalidHashError:
        return True


DUMMY_HASH = (
    "$argon2id$v=19$m=65536,t=3,p=4$ZwcDSmpw6ghIdCJfJ0WNdQ$"
    "rzJarLD6ft8NPS78v/8QyVW9EBlyyzlYrN7nydrcGj0"
)
"""Verified against for unknown logins, so they take as long as known ones: made once by
:func:`hash_password` and kept as text, with the hasher's parameters (a test checks they are
the same), so that no process pays a hash at start (a ``famille`` command, a worker)."""


def _fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if c.isalnum())


def password_issues(password: str, context_words: tuple[str, ...] = ()) -> list[Issue]:
    """Why ``password`` is refused (empty when accepted).

    No composition rules: length and a blocklist of common and context words (town name…).
    """
    issues = []
    if len(password) < MIN_LENGTH:
        issues.append(
            Issue(
                "password_too_short",
                f"Le mot de passe doit contenir au moins {MIN_LENGTH} caractères.",
                "password",
            )
        )
    if len(password) > MAX_LENGTH:
        issues.append(
            Issue(
                "password_too_long",
                f"Le mot de passe ne peut dépasser {MAX_LENGTH} caractères.",
                "password",
            )
        )
    folded = _fold(password)
    words = COMMON_WORDS | {_fold(w) for w in context_words if len(_fold(w)) >= 4}
    if any(word in folded for word in words):
        issues.append(
            Issue(
                "password_guessable",
                "Le mot de passe contient un mot trop courant ou lié au portail (nom de la commune, "
                "« mairie », « famille »…).",
                "password",
            )
        )
    return issues
