"""Errors raised by the services.

Business rules never raise bare exceptions: a service that refuses a change raises
:class:`ValidationFailed` carrying one :class:`Issue` per problem, each naming the field
(when there is one) and a French message for people plus a stable ``code`` for machines.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from attrs import frozen


@frozen
class Issue:
    """One problem found in a request.

    :param code: stable, machine-readable identifier (``"deadline_passed"``).
    :param message: the French sentence shown to people.
    :param field: the dotted name of the offending field, or ``None`` for the whole request.
    """

    code: str
    message: str
    field: str | None = None


class FamilleError(Exception):
    """Base class of every error the core raises on purpose."""

    code = "error"

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


class ReauthenticationRequired(FamilleError):
    """A sensitive change (bank details, authorised persons, e-mail…) needs a recent login.

    The host asks the person to type their password again, then lets them retry.
    """

    code = "reauthentication_required"

    def __init__(self) -> None:
        super().__init__("Pour cette modification, confirmez d'abord votre mot de passe.")


class ValidationFailed(FamilleError):
    """A request broke one or more rules; nothing was changed."""

    code = "invalid"

    def __init__(self, issues: Iterable[Issue]) -> None:
        self.issues: tuple[Issue, ...] = tuple(issues)
        super().__init__("; ".join(i.message for i in self.issues))

    @classmethod
    def single(cls, code: str, message: str, field: str | None = None) -> ValidationFailed:
        """Shortcut for a request refused for one reason."""
        return cls([Issue(code=code, message=message, field=field)])

    def by_field(self) -> dict[str | None, list[str]]:
        """Group the messages by field name (``None`` for request-level issues)."""
        grouped: dict[str | None, list[str]] = {}
        for issue in self.issues:
            grouped.setdefault(issue.field, []).append(issue.message)
        return grouped


class NotFound(FamilleError):
    """The object does not exist **or** the actor may not see it.

    Both cases answer the same, so that nobody can probe another family's records.
    """

    code = "not_found"


class PermissionDenied(FamilleError):
    """The actor is known but their role does not allow the action."""

    code = "forbidden"


class Conflict(FamilleError):
    """The record changed since the actor read it (optimistic locking)."""

    code = "conflict"


class ConfigurationError(FamilleError):
    """The configuration is invalid or names a plugin that cannot be loaded."""

    code = "configuration"


def raise_if(issues: Sequence[Issue]) -> None:
    """Raise :class:`ValidationFailed` when ``issues`` is not empty."""
    if issues:
        raise ValidationFailed(issues)
