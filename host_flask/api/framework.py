"""A thin layer that describes each API operation once, for Flask and for OpenAPI together.

:func:`api_operation` turns a view into an :class:`Operation`; the host registers the core's
operations and the enabled plugins' (hook ``api_operations``) on the ``/api/v1`` blueprint of
each application (:mod:`host_flask.api.views`), and describes the same list in OpenAPI.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any

from attrs import frozen
from flask import Blueprint, Response, g, json, request
from flask.typing import ResponseReturnValue

from famille_core.convert import structure
from famille_core.entities import ApiClient, Scope
from famille_core.errors import Conflict, NotFound, ValidationFailed
from famille_core.feed import API_CLIENT, Author, acting_as
from famille_core.services.api_clients import client_for_token
from host_flask.access import public
from host_flask.context import get_portal, request_uow
from host_flask.problems import FieldError, problem, problem_for, problem_response

log = logging.getLogger(__name__)

class ApiError(Exception):
    """An error answered as a problem document."""

    def __init__(
        self,
        status: int,
        code: str,
        title: str,
        detail: str,
        errors: list[FieldError] | None = None,
    ):
        super().__init__(detail)
        self.problem = problem(status, code, title, detail, errors)


@frozen(kw_only=True)
class QueryParam:
    """A query-string parameter of an operation."""

    name: str
    schema: dict[str, Any]
    description: str
    required: bool = False


@frozen(kw_only=True)
class Operation:
    """One API operation: its route, its contract, and its view.

    :param view: the function answering the request; it returns what ``response`` describes
        (an attrs instance, a list of them…), unstructured by the portal's converter.
    :param problems: responses other than the usual 400/401/403 (and 422 with a body) that the
        operation may give, as ``(status, description)``, for the OpenAPI document.
    """

    method: str
    path: str
    summary: str
    scope: Scope | None
    request: type | None
    response: Any
    status: int
    params: tuple[QueryParam, ...]
    view: Callable[..., Any]
    problems: tuple[tuple[int, str], ...] = ()

    @property
    def endpoint(self) -> str:
        """The Flask endpoint and the OpenAPI ``operationId``: the view's name."""
        return self.view.__name__


def current_client() -> ApiClient:
    """The authenticated API client of this request."""
    client: ApiClient = g.famille_api_client
    return client


def _authenticate(scope: Scope | None) -> None:
    header = request.headers.get("Authorization", "")
    if not header.startswith("Bearer "):
        raise ApiError(
            401,
            "non-authentifie",
            "Authentification requise",
            "Présentez un jeton d'API dans l'en-tête Authorization: Bearer <jeton>. Les cookies ne sont pas acceptés.",
        )
    client = client_for_token(get_portal(), request_uow(), header.removeprefix("Bearer ").strip())
    if client is None:
        log.warning("API token refused")
        raise ApiError(
            401, "jeton-invalide", "Jeton invalide", "Ce jeton est inconnu ou a été révoqué."
        )
    if scope is not None and not client.allows(scope):
        log.warning("API scope refused", extra={"client": client.name, "scope": str(scope)})
        raise ApiError(
            403,
            "perimetre-insuffisant",
            "Périmètre insuffisant",
            f"Ce client n'a pas le périmètre « {scope} ».",
        )
    g.famille_api_client = client


def int_arg(name: str, default: int, low: int, high: int) -> int:
    """An integer query parameter within bounds, or a 400 problem."""
    raw = request.args.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        value = low - 1
    if not low <= value <= high:
        raise ApiError(
            400,
            "parametre-invalide",
            "Paramètre invalide",
            f"« {name} » doit être un entier entre {low} et {high}.",
            [FieldError(field=name, code="invalid", message="Entier hors bornes.")],
        )
    return value


MAX_JSON_DEPTH = 32
"""How deeply a request body may nest arrays and objects (the API's own documents nest 4)."""

_JSON_TOKENS = re.compile(rb'"(?:[^"\\]|\\.)*"|[\[\]{}]')


def _too_deep(raw: bytes) -> bool:
    """True when ``raw`` nests deeper than :data:`MAX_JSON_DEPTH`, found without parsing
    (the parser recurses once per level: 200,000 levels exhaust the stack)."""
    depth = 0
    for token in _JSON_TOKENS.finditer(raw):
        bracket = token.group()
        if bracket in (b"[", b"{"):
            depth += 1
            if depth > MAX_JSON_DEPTH:
                return True
        elif bracket in (b"]", b"}"):
            depth -= 1
    return False


def body_as(cls: type) -> Any:
    """The JSON body structured into ``cls``, or a 400/422 problem."""
    if request.is_json and _too_deep(request.get_data(cache=True)):
        raise ApiError(
            400,
            "corps-invalide",
            "Corps invalide",
            f"Le corps JSON est trop imbriqué ({MAX_JSON_DEPTH} niveaux au plus).",
        )
    data = request.get_json(silent=True)
    if data is None:
        raise ApiError(
            400,
            "corps-invalide",
            "Corps invalide",
            "Le corps de la requête doit être un objet JSON.",
        )
    try:
        return structure(get_portal().converter, data, cls)
    except ValidationFailed as exc:
        raise ApiError(
            422,
            "validation",
            "Données invalides",
            "Certaines valeurs sont invalides.",
            [FieldError(field=i.field, code=i.code, message=i.message) for i in exc.issues],
        ) from exc


def api_operation(
    method: str,
    path: str,
    *,
    summary: str,
    scope: Scope | None,
    response: Any,
    request_body: type | None = None,
    status: int = 200,
    params: tuple[QueryParam, ...] = (),
    problems: tuple[tuple[int, str], ...] = (),
) -> Callable[[Callable[..., Any]], Operation]:
    """Describe an operation of the JSON API (``/api/v1``): the decorated view becomes an
    :class:`Operation`, which a plugin returns from ``api_operations``.

    ::

        @tk.api_operation("GET", "/reservations", summary="Réservations d'une période (paginé)",
                          scope=Scope.AGENDA_READ, response=tk.page_of(ReservationOut),
                          params=tk.DATE_RANGE + tk.PAGE_PARAMS)
        def list_reservations() -> Any:
            return tk.api_page(ReservationOut, Reservation, ("day", "id"), **tk.api_period())

    The host checks the token and its ``scope``, commits the request's unit of work after the
    view, answers ``ApiError``, ``ValidationFailed``, ``Conflict`` and ``NotFound`` with an RFC
    9457 problem, and shapes the result as ``response`` in JSON. ``path`` uses OpenAPI's
    ``{name}`` for path parameters, passed to the view by name.
    """

    def decorator(view: Callable[..., Any]) -> Operation:
        return Operation(
            method=method,
            path=path,
            summary=summary,
            scope=scope,
            request=request_body,
            response=response,
            status=status,
            params=params,
            view=view,
            problems=problems,
        )

    return decorator


def register(bp: Blueprint, operation: Operation) -> None:
    """Add ``operation`` to the API blueprint ``bp``: token check, commit, JSON or problem."""
    view, response, status = operation.view, operation.response, operation.status

    @public  # authentication is the token, checked below; the session cookie is ignored
    def wrapped(**kwargs: Any) -> ResponseReturnValue:
        try:
            _authenticate(operation.scope)
            client = current_client()
            with acting_as(Author(kind=API_CLIENT, id=client.id, name=client.name)):
                result = view(**kwargs)
                request_uow().commit()
        except ApiError as exc:
            return problem_response(
                exc.problem,
                {"WWW-Authenticate": "Bearer"} if exc.problem.status == 401 else None,
            )
        except (ValidationFailed, Conflict, NotFound) as exc:
            return problem_response(problem_for(exc))
        body = get_portal().converter.unstructure(result, response)
        return Response(json.dumps(body), status=status, mimetype="application/json")

    wrapped.__name__ = operation.endpoint
    wrapped.__doc__ = view.__doc__
    flask_path = operation.path.replace("{", "<").replace("}", ">")
    bp.add_url_rule(flask_path, operation.endpoint, wrapped, methods=[operation.method])
