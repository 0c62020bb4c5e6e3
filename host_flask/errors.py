"""Generic French error pages: no stack trace, no debug information (docs/security.md point 31).

The 500 page needs no database (docs/security.md point 38): the failed request's unit of work is
rolled back first and the page shows nobody's name, so a database that refuses or has gone
still gets a French page with every security header."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Flask, Response, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException, InternalServerError

from famille_core.errors import Conflict, NotFound, PermissionDenied, ReauthenticationRequired
from host_flask.api.views import PREFIX as API_PREFIX
from host_flask.context import discard_request_uow
from host_flask.problems import FieldError, problem, problem_response, wants_json

log = logging.getLogger(__name__)

TITLES = {
    400: "Requête invalide",
    401: "Connexion nécessaire",
    403: "Accès refusé",
    404: "Page introuvable",
    405: "Méthode non autorisée",
    409: "Conflit",
    413: "Fichier trop volumineux",
    429: "Trop de tentatives",
    503: "Service momentanément indisponible",
}


def _messages() -> dict[int, str]:
    return {
        400: _("La demande n'a pas pu être traitée. Rechargez la page et recommencez."),
        401: _("Veuillez vous connecter pour accéder à cette page."),
        403: _("Vous n'avez pas accès à cette page."),
        404: _("La page demandée n'existe pas ou n'est pas accessible."),
        405: _("Cette action n'est pas possible ici."),
        413: _("Le fichier envoyé dépasse la taille autorisée."),
        429: _(
            "Trop de tentatives en peu de temps. Patientez quelques minutes avant de réessayer."
        ),
        500: _("Une erreur inattendue est survenue. L'équipe technique a été prévenue."),
        503: _(
            "Le service est momentanément indisponible. Réessayez dans quelques minutes ; "
            "rien n'a été enregistré."
        ),
    }


def _render(code: int, message: str | None = None, **context: object) -> ResponseReturnValue:
    title = _(TITLES.get(code, "Erreur"))
    message = message or _messages().get(code, _messages()[500])
    if request.blueprint == "api" or request.path.startswith(API_PREFIX + "/") or wants_json():
        # Refused before the API's own views ran (NUL byte, unknown route — a disabled plugin's
        # operation —, 413…), or a page asked for by a machine: the RFC 9457 problem the API
        # documents.
        slug = {
            400: "requete-invalide",
            404: "introuvable",
            405: "methode-non-permise",
            409: "conflit",
        }
        return problem_response(problem(code, slug.get(code, "erreur"), title, message))
    return render_template("errors.html", code=code, title=title, message=message, **context), code


def init_app(app: Flask) -> None:
    @app.errorhandler(CSRFError)
    def _csrf(_exc: CSRFError) -> ResponseReturnValue:
        log.warning("request refused: missing or invalid CSRF token")
        return _render(400)

    @app.errorhandler(HTTPException)
    def _http(exc: HTTPException) -> ResponseReturnValue:
        code = exc.code or 500
        if code == 429:
            log.warning("rate limit reached", extra={"endpoint": request.endpoint})
        return _render(code)

    @app.errorhandler(NotFound)
    def _not_found(_exc: NotFound) -> ResponseReturnValue:
        return _render(404)

    @app.errorhandler(PermissionDenied)
    def _forbidden(_exc: PermissionDenied) -> ResponseReturnValue:
        log.warning("access refused", extra={"endpoint": request.endpoint})
        return _render(404)

    @app.errorhandler(ReauthenticationRequired)
    def _reauthenticate(exc: ReauthenticationRequired) -> ResponseReturnValue:
        """Ask for the password again, then come back (to the form, for a refused POST)."""
        target = request.full_path.rstrip("?")
        if request.method != "GET":
            referrer = urlsplit(request.referrer or "")
            same_site = referrer.netloc in ("", request.host)
            target = (referrer.path or "/") if same_site else "/"
        message = _("Pour cette modification, confirmez d'abord votre mot de passe.")
        if wants_json():
            errors = [FieldError(field=None, code=exc.code, message=message)]
            return problem_response(
                problem(403, "confirmation-requise", _("Confirmation requise"), message, errors)
            )
        flash(message, "info")
        return redirect(url_for("auth.confirm_password", next=target))

    @app.errorhandler(Conflict)
    def _conflict(exc: Conflict) -> ResponseReturnValue:
        """Lost a race with another request (one of two agents, a lock that deadlocked): nothing
        was saved; say so in French instead of failing."""
        log.info("request lost a race", extra={"endpoint": request.endpoint})
        discard_request_uow()
        return _render(409, exc.message or None)

    @app.errorhandler(InternalServerError)
    def _internal(exc: InternalServerError) -> ResponseReturnValue:
        log.exception("unexpected error", extra={"endpoint": request.endpoint})
        try:
            discard_request_uow()
        except Exception:  # the database is gone: the page below does not need it
            log.warning("could not roll back the failed request", exc_info=True)
        try:
            # ``current_user`` is a row of the failed session: showing the name would read it
            # again. The page is the same for everyone.
            return _render(500, current_user=None, menu=[])
        except Exception:
            log.exception("error page failed")
            return Response(_messages()[500], status=500, mimetype="text/plain")
