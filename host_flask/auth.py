"""Login, logout and sessions (security.md points 1–6, 9)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import (
    Blueprint,
    Flask,
    abort,
    flash,
    g,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from famille_core.entities import Actor, User
from famille_core.errors import ValidationFailed
from famille_core.hooks.results import Notification
from famille_core.services import accounts
from host_flask import second_factor as second_factor_service
from host_flask.access import AGENTS, FAMILIES, audience_of, current_user, public
from host_flask.app import get_portal
from host_flask.uow import request_uow

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


def _login_failed(response: Any) -> bool:
    """Only failed attempts count towards the login limits."""
    return bool(getattr(response, "status_code", 200) == 200 and request.method == "POST")


def _reauth_failed(response: Any) -> bool:
    return bool(getattr(response, "status_code", 200) == 422)


def _account_key() -> str:
    return "account:" + accounts.normalise_email(request.form.get("email", ""))


def _ip_limit() -> str:
    return str(get_portal().settings.portal.login_limit)


def _account_limit() -> str:
    return str(get_portal().settings.portal.login_account_limit)


def _safe_next(target: str | None) -> str | None:
    """Only same-site paths are followed after login (no open redirect)."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return None


@bp.route("/connexion", methods=["GET", "POST"])
@public
def login() -> ResponseReturnValue:
    """Connexion: the same answer for unknown logins and wrong passwords."""
    error = None
    email = ""
    if request.method == "POST":
        email = request.form.get("email", "")
        password = request.form.get("password", "")
        portal = get_portal()
        uow = request_uow()
        user = accounts.authenticate(portal, uow, email, password)
        if user is not None:
            uow.commit()
            target = _safe_next(request.args.get("next"))
            if user.totp_secret:
                session.clear()
                session["pending_uid"] = user.id
                session["pending_nonce"] = user.session_nonce
                session["pending_at"] = _now().isoformat()
                return redirect(url_for("auth.second_factor", next=target))
            _start_session(user)
            return redirect(target or url_for("home.index"))
        error = _("Identifiant ou mot de passe incorrect.")
    return render_template("auth/login.html", error=error, email=email)


def _start_session(user: User) -> None:
    session.clear()
    session["uid"] = user.id
    session["nonce"] = user.session_nonce
    session["seen"] = _now().isoformat()
    session["auth_at"] = session["seen"]
    session.permanent = False


def _authenticated_at() -> datetime | None:
    """When the password was last typed in this session (sensitive changes need it recent)."""
    try:
        return datetime.fromisoformat(session["auth_at"])
    except (KeyError, TypeError, ValueError):
        return None


@bp.route("/connexion/confirmer", methods=["GET", "POST"])
def confirm_password() -> ResponseReturnValue:
    """Type one's password again before a sensitive change (security.md point 7)."""
    user = current_user()
    assert user is not None
    error = None
    target = _safe_next(request.args.get("next"))
    if request.method == "POST":
        uow = request_uow()
        if accounts.authenticate(get_portal(), uow, user.email, request.form.get("password", "")):
            uow.commit()
            session["auth_at"] = _now().isoformat()
            return redirect(target or url_for("home.index"))
        error = _("Mot de passe incorrect.")
    return render_template("auth/confirm.html", error=error), 200 if error is None else 422


SECOND_FACTOR_WINDOW = timedelta(minutes=5)


@bp.route("/connexion/code", methods=["GET", "POST"])
@public
def second_factor() -> ResponseReturnValue:
    """Second step of the login for users with a TOTP application."""
    uid, started = session.get("pending_uid"), session.get("pending_at")
    user = request_uow().get(User, int(uid)) if uid is not None else None
    if (
        user is None
        or not started
        or session.get("pending_nonce") != user.session_nonce
        or _now() - datetime.fromisoformat(started) > SECOND_FACTOR_WINDOW
    ):
        session.clear()
        flash(_("Veuillez vous reconnecter."), "info")
        return redirect(url_for("auth.login"))
    error = None
    if request.method == "POST":
        if second_factor_service.verify(get_portal(), user, request.form.get("code", "")):
            request_uow().commit()
            _start_session(user)
            return redirect(_safe_next(request.args.get("next")) or url_for("home.index"))
        request_uow().commit()
        error = _("Code incorrect ou expiré.")
    return render_template("auth/second_factor.html", error=error)


@bp.route("/securite/double-authentification", methods=["GET", "POST"])
def second_factor_setup() -> ResponseReturnValue:
    """Enrol an authenticator application (TOTP)."""
    user = current_user()
    assert user is not None
    portal = get_portal()
    if user.totp_secret:
        return render_template("auth/second_factor_setup.html", enabled=True)
    secret = session.get("totp_setup") or second_factor_service.new_secret()
    session["totp_setup"] = secret
    error = None
    if request.method == "POST":
        if second_factor_service.enable(portal, user, secret, request.form.get("code", "")):
            request_uow().commit()
            session.pop("totp_setup", None)
            flash(_("La double authentification est activée."), "success")
            return redirect(url_for("home.index"))
        error = _("Code incorrect : vérifiez l'heure de votre téléphone et recommencez.")
    uri = second_factor_service.provisioning_uri(portal, user, secret)
    return render_template(
        "auth/second_factor_setup.html",
        enabled=False,
        secret=secret,
        qr=second_factor_service.qr_svg(uri),
        error=error,
    ), 200 if error is None else 422


@bp.route("/deconnexion", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Déconnexion: the session nonce changes, so a copied cookie is dead too."""
    user = current_user()
    if user is not None:
        accounts.revoke_sessions(user)
        request_uow().commit()
    session.clear()
    flash(_("Vous êtes déconnecté(e)."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/session/prolonger", methods=["POST"])
def extend_session() -> ResponseReturnValue:
    """Keep the session alive (the page warns before the idle timeout)."""
    session["seen"] = _now().isoformat()
    if request.accept_mimetypes.best == "application/json":
        return {"ok": True, "idle_seconds": _idle_limit().total_seconds()}
    return redirect(_safe_next(request.form.get("next")) or url_for("home.index"))


@bp.route("/mot-de-passe-oublie", methods=["GET", "POST"])
@public
def forgotten_password() -> ResponseReturnValue:
    """Mot de passe oublié: the same answer whether the address has an account or not."""
    if request.method == "POST":
        portal = get_portal()
        uow = request_uow()
        email = request.form.get("email", "")
        token = accounts.request_password_reset(portal, uow, email)
        if token is not None:
            uow.commit()
            # The link is built on the configured address, never on the request's Host header.
            link = portal.settings.portal.base_url.rstrip("/") + url_for(
                "auth.reset_password", token=token
            )
            portal.hook.deliver_notification(
                portal=portal,
                notification=Notification(
                    to=accounts.normalise_email(email),
                    subject=_("Réinitialisation de votre mot de passe"),
                    body=_(
                        "Bonjour,\n\nPour choisir un nouveau mot de passe, ouvrez ce lien (valable une heure, "
                        "une seule fois) :\n%(link)s\n\nSi vous n'êtes pas à l'origine de cette demande, "
                        "ignorez ce message.",
                        link=link,
                    ),
                    kind="password_reset",
                ),
            )
        flash(
            _(
                "Si un compte utilise cette adresse, un e-mail vient de lui être envoyé avec un lien "
                "pour choisir un nouveau mot de passe."
            ),
            "info",
        )
        return redirect(url_for("auth.login"))
    return render_template("auth/forgotten.html")


@bp.route("/reinitialiser-mot-de-passe/<token>", methods=["GET", "POST"])
@public
def reset_password(token: str) -> ResponseReturnValue:
    """Choose a new password from an e-mailed link."""
    errors: dict[str | None, list[str]] = {}
    if request.method == "POST":
        password = request.form.get("password", "")
        if password != request.form.get("confirm", ""):
            errors = {"confirm": [_("Les deux mots de passe ne sont pas identiques.")]}
        else:
            try:
                accounts.reset_password(get_portal(), request_uow(), token, password)
            except ValidationFailed as exc:
                errors = exc.by_field()
            else:
                request_uow().commit()
                session.clear()
                flash(_("Votre mot de passe a été changé : vous pouvez vous connecter."), "success")
                return redirect(url_for("auth.login"))
    return render_template("auth/reset.html", errors=errors), 200 if not errors else 422


@bp.route("/mon-mot-de-passe", methods=["GET", "POST"])
def change_password() -> ResponseReturnValue:
    """Change one's password (ends the other sessions; this one continues)."""
    errors: dict[str | None, list[str]] = {}
    user = current_user()
    assert user is not None
    if request.method == "POST":
        new = request.form.get("password", "")
        if new != request.form.get("confirm", ""):
            errors = {"confirm": [_("Les deux mots de passe ne sont pas identiques.")]}
        else:
            try:
                accounts.change_password(
                    get_portal(), request_uow(), user, request.form.get("current", ""), new
                )
            except ValidationFailed as exc:
                errors = exc.by_field()
            else:
                request_uow().commit()
                session["nonce"] = user.session_nonce
                session["auth_at"] = _now().isoformat()
                flash(_("Votre mot de passe a été changé."), "success")
                return redirect(url_for("home.index"))
    return render_template("auth/change_password.html", errors=errors), 200 if not errors else 422


def _now() -> datetime:
    return get_portal().clock.now()


def _idle_limit() -> timedelta:
    return timedelta(minutes=get_portal().settings.portal.session_idle_minutes)


def _load_user() -> None:
    """Restore the user from the session cookie, checking nonce, activity and idle time."""
    g.famille_user = None
    uid = session.get("uid")
    if uid is None:
        return
    user = request_uow().get(User, int(uid))
    seen = session.get("seen")
    expired = False
    if seen:
        try:
            expired = _now() - datetime.fromisoformat(seen) > _idle_limit()
        except ValueError:
            expired = True
    if user is None or not user.is_active or session.get("nonce") != user.session_nonce:
        session.clear()
        return
    if expired:
        session.clear()
        flash(_("Votre session a expiré : veuillez vous reconnecter."), "info")
        return
    g.famille_user = user
    g.famille_actor = Actor.for_user(user, authenticated_at=_authenticated_at())
    if request.endpoint != "static":
        session["seen"] = _now().isoformat()


SECOND_FACTOR_ENROLMENT = {"auth.second_factor_setup", "auth.logout", "auth.extend_session"}


def _enforce_access() -> ResponseReturnValue | None:
    """Deny by default: every route but the public ones needs a login (and the right role)."""
    if request.endpoint is None:
        return None  # 404 / 405: the error handlers answer
    if request.endpoint == "static" or request.endpoint.endswith(".static"):
        return None  # the host's and the plugins' stylesheets, scripts and images
    from flask import current_app

    view = current_app.view_functions.get(request.endpoint)
    audience = audience_of(view)
    if audience == "public":
        return None
    _load_user()
    user = current_user()
    if user is None:
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401)
    if (
        user.is_agent
        and not user.totp_secret
        and get_portal().settings.portal.agent_second_factor == "required"
        and request.endpoint not in SECOND_FACTOR_ENROLMENT
    ):
        return redirect(url_for("auth.second_factor_setup"))
    if audience == AGENTS and not user.is_agent:
        abort(404)
    if audience == FAMILIES and user.family_id is None:
        abort(404)
    return None


def _load_optional_user() -> None:
    """Public pages still show the menu when someone is logged in (never for the API, which
    accepts no cookie)."""
    if request.blueprint == "api":
        return
    if "famille_user" not in g and session.get("uid") is not None:
        _load_user()


def _throttle_login(app: Flask) -> None:
    """Login throttling keyed on the IP **and** the account; only failures count.

    One limiter per application (its counters live in memory: run one process per portal, or give
    ``RATELIMIT_STORAGE_URI`` a shared store such as Redis).
    """
    limiter = Limiter(
        key_func=get_remote_address,
        app=app,
        default_limits=[],
        storage_uri=app.config.get("RATELIMIT_STORAGE_URI", "memory://"),
        strategy="moving-window",
    )
    view: Any = app.view_functions["auth.login"]
    view = limiter.limit(_ip_limit, methods=["POST"], deduct_when=_login_failed)(view)
    view = limiter.limit(
        _account_limit, key_func=_account_key, methods=["POST"], deduct_when=_login_failed
    )(view)
    app.view_functions["auth.login"] = view
    # Reset requests are throttled by address too: they send e-mail.
    reset_view: Any = app.view_functions["auth.forgotten_password"]
    app.view_functions["auth.forgotten_password"] = limiter.limit(_ip_limit, methods=["POST"])(
        reset_view
    )
    # Confirming one's password is guessing too: same limits as the login.
    confirm_view: Any = app.view_functions["auth.confirm_password"]
    app.view_functions["auth.confirm_password"] = limiter.limit(
        _ip_limit, methods=["POST"], deduct_when=_reauth_failed
    )(confirm_view)
    app.extensions["famille_limiter"] = limiter


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)
    _throttle_login(app)
    app.before_request(_enforce_access)
    app.before_request(_load_optional_user)

    @app.context_processor
    def _inject_user() -> dict[str, Any]:
        user = g.get("famille_user")
        return {
            "current_user": user,
            "session_idle_seconds": int(_idle_limit().total_seconds()),
            "utc_now": datetime.now(UTC),
        }
