"""One answer for a refused request: RFC 9457 problem documents.

The JSON API, the error pages asked for JSON and the forms of every page (through
:func:`host_flask.forms.form_action`) answer a machine the same way::

    {"type": ".../problemes/validation", "title": "Données invalides", "status": 422,
     "detail": "…", "errors": [{"field": "day", "code": "deadline_passed", "message": "…"}]}
"""

from __future__ import annotations

from attrs import frozen
from flask import Response, json, request

from famille_core.errors import Conflict, FamilleError, NotFound, ValidationFailed
from host_flask.context import get_portal

PROBLEM_BASE = "https://portail-famille.example/problemes/"
"""The ``type`` of a problem is this base followed by a French slug (``validation``…)."""


@frozen(kw_only=True)
class FieldError:
    """A problem with one field."""

    field: str | None
    code: str
    message: str


@frozen(kw_only=True)
class Problem:
    """An RFC 9457 problem document."""

    type: str
    title: str
    status: int
    detail: str
    errors: list[FieldError] | None = None


def problem(
    status: int, slug: str, title: str, detail: str, errors: list[FieldError] | None = None
) -> Problem:
    """A problem whose ``type`` is :data:`PROBLEM_BASE` + ``slug``."""
    return Problem(type=PROBLEM_BASE + slug, title=title, status=status, detail=detail, errors=errors)


def problem_for(exc: FamilleError) -> Problem:
    """The problem that answers a service's refusal: 422 for :class:`ValidationFailed` (one
    entry per issue), 409 for :class:`Conflict`, 404 for :class:`NotFound`."""
    if isinstance(exc, ValidationFailed):
        errors = [FieldError(field=i.field, code=i.code, message=i.message) for i in exc.issues]
        return problem(422, "validation", "Données invalides", exc.message, errors)
    if isinstance(exc, Conflict):
        detail = exc.message or "La demande est en conflit avec une autre modification."
        errors = [FieldError(field=None, code=exc.code, message=detail)]
        return problem(409, "conflit", "Conflit", detail, errors)
    if isinstance(exc, NotFound):
        return problem(404, "introuvable", "Introuvable", exc.message or "Ressource introuvable.")
    raise TypeError(f"no problem document for {type(exc).__name__}")


def problem_response(answer: Problem, headers: dict[str, str] | None = None) -> Response:
    """``answer`` as an ``application/problem+json`` response (``errors`` left out when none)."""
    body = get_portal().converter.unstructure(answer)
    if body.get("errors") is None:
        body.pop("errors", None)
    response = Response(json.dumps(body), status=answer.status, mimetype="application/problem+json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def wants_json() -> bool:
    """True for a machine client of a page (``Accept: application/json``)."""
    return request.accept_mimetypes.best == "application/json"
