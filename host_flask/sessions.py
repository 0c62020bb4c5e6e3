"""Sessions and access: the ``auth`` blueprint, logout, idle timeout, deny by default
(docs/security.md points 6, 9).

The blueprint's other pages live next door, by domain: :mod:`host_flask.login` (login, second
factor, re-authentication) and :mod:`host_flask.password_reset` (forgotten, reset and changed
passwords). Their endpoints keep the ``auth.`` prefix; :mod:`host_flask.auth` puts the three
together.
"""

from __future__ import annotations

import logging
import unicodedata
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import (
    Blueprint,
    Flask,
    abort,
    current_app,
    flash,
    g,
    has_request_context,
    redirect,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from sqlalchemy import Engine

from famille_core import feed
from famille_core.entities import Actor, User
from famille_core.persistence.account_check import AccountState, account_reader
from famille_core.services import accounts
from famille_core.services import acting as acting_services
from host_flask import acting, session_cookie
from host_flask.access import (
    AGENTS,
    FAMILIES,
    TemplateUser,
    audience_of,
    current_user,
    open_to_acting,
    signed_in,
)
from host_flask.context import EXTENSION, get_portal, request_uow

log = logging.getLogger(__name__)

bp = Blueprint("auth", __name__)


def start_session(user: User) -> None:
    """Log ``user`` in this browser (a new session: nothing of the anonymous one is kept)."""
    session.clear()
    session["uid"] = user.id
    session["nonce"] = user.session_nonce
    session["seen"] = now().isoformat()
    session["auth_at"] = session["seen"]
    session.permanent = False


def authenticated_at() -> datetime | None:
    """When the password was last typed in this session (sensitive changes need it recent)."""
    try:
        return datetime.fromisoformat(session["auth_at"])
    except (KeyError, TypeError, ValueError):
        return None


def safe_next(target: str | None) -> str | None:
    """``target`` when it is a path of this site, else ``None`` (no open redirect).

    Browsers drop tabs and newlines from a ``Location`` and read a backslash as ``/``, so
    ``next=/%09/evil.example`` would lead to ``//evil.example``: a target with a control, format or
    space character, or a backslash, is refused outright, and what is left must parse as a path
    without scheme or host.
    """
    if not target or "\\" in target:
        return None
    if any(unicodedata.category(char)[0] in "CZ" for char in target):
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or target.startswith("//"):
        return None
    return target


@bp.route("/deconnexion", methods=["POST"])
def logout() -> ResponseReturnValue:
    """Déconnexion: the session nonce changes, so a copied cookie is dead too."""
    user = current_user()
    if user is not None:
        family_id = session.get(acting.SESSION_KEY)
        if user.is_agent and isinstance(family_id, int):  # logging out ends acting for a family
            acting_services.end(get_portal(), request_uow(), g.famille_actor, family_id)
        accounts.revoke_sessions(user)
        request_uow().commit()
    session.clear()
    flash(_("Vous êtes déconnecté(e)."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/session/prolonger", methods=["POST"])
def extend_session() -> ResponseReturnValue:
    """Keep the session alive (the page warns before the idle timeout)."""
    session["seen"] = now().isoformat()
    if request.accept_mimetypes.best == "application/json":
        return {"ok": True, "idle_seconds": _idle_limit().total_seconds()}
    return redirect(safe_next(request.form.get("next")) or url_for("home.index"))


def now() -> datetime:
    """The portal's clock."""
    return get_portal().clock.now()


def _idle_limit() -> timedelta:
    return timedelta(minutes=get_portal().settings.portal.session_idle_minutes)


SEEN_REFRESH = timedelta(seconds=60)
"""How stale the session's last-activity time may get before a request rewrites it. Rewriting it
on every request re-signs and re-sends the cookie each time (docs/deployment.md, "Fast pages");
a stale time only makes the idle timeout come up to this much *earlier*, never later."""


def _seen_at() -> datetime | None:
    """The session's last recorded activity; ``None`` when missing or unreadable."""
    try:
        return datetime.fromisoformat(session["seen"])
    except (KeyError, TypeError, ValueError):
        return None


ACCOUNT_READER = "famille_account_reader"
"""``app.extensions[ACCOUNT_READER]``: the :class:`~famille_core.persistence.account_check.AccountReader`
of the portal's database (``None`` for a portal without SQL storage: the unit of work reads)."""


def checked_account(user_id: int) -> AccountState | None:
    """The account's state as its session check needs it, read now (never cached: a deactivated
    account or a changed nonce is refused on the very next request, by every process)."""
    reader = current_app.extensions.get(ACCOUNT_READER)
    if reader is not None:
        found: AccountState | None = reader.read(user_id)
        return found
    user = request_uow().get(User, user_id)
    return None if user is None else AccountState.of(user)


def _actor(account: AccountState, authenticated: datetime | None) -> Actor:
    """What :meth:`Actor.for_user` gives for the account (an agent's actor never carries a
    household)."""
    return Actor(
        user_id=account.id,
        role=account.role,
        family_id=None if account.is_agent else account.family_id,
        service=account.service,
        display_name=account.display_name,
        authenticated_at=authenticated,
    )


def _load_user() -> None:
    """Restore the user from the session cookie, checking nonce, activity and idle time."""
    # The objects behind Flask's proxies, once (docs/deployment.md, "Fast pages": every request
    # of every page comes through here).
    cookie: Any = session._get_current_object()  # type: ignore[attr-defined]
    request_globals: Any = g._get_current_object()
    request_globals.famille_login = None
    request_globals.pop("famille_user", None)
    uid = cookie.get("uid")
    if uid is None:
        return
    account = checked_account(int(uid))
    current = now()
    seen = _seen_at()
    expired = bool(cookie.get("seen")) and (seen is None or current - seen > _idle_limit())
    if account is None or not account.is_active or cookie.get("nonce") != account.session_nonce:
        cookie.clear()
        return
    if expired:
        cookie.clear()
        flash(_("Votre session a expiré : veuillez vous reconnecter."), "info")
        return
    request_globals.famille_login = account
    actor = request_globals.famille_actor = _actor(account, authenticated_at())
    feed.set_author(feed.Author.of(actor))  # who changed what, in the event feed
    if request.endpoint != "static" and (seen is None or current - seen >= SEEN_REFRESH):
        cookie["seen"] = current.isoformat()


SECOND_FACTOR_ENROLMENT = {"auth.second_factor_setup", "auth.logout", "auth.extend_session"}


def _enforce_access() -> ResponseReturnValue | None:
    """Deny by default: every route but the public ones needs a login (and the right role)."""
    endpoint = request.endpoint
    if endpoint is None:
        return None  # 404 / 405: the error handlers answer
    if endpoint == "static" or endpoint.endswith(".static"):
        return None  # the host's and the plugins' stylesheets, scripts and images
    view = current_app.view_functions.get(endpoint)
    audience = audience_of(view)
    if audience == "public":
        return None
    _load_user()
    account = signed_in()
    if account is None:
        if request.method == "GET":
            return redirect(url_for("auth.login", next=request.full_path.rstrip("?")))
        abort(401)
    if (
        account.is_agent
        and not account.has_second_factor
        and get_portal().settings.portal.second_factor_required
        and endpoint not in SECOND_FACTOR_ENROLMENT
    ):
        return redirect(url_for("auth.second_factor_setup"))
    if audience == AGENTS and not account.is_agent:
        abort(404)
    if account.is_agent and open_to_acting(view):
        acting.act_in_this_request()
    if audience == FAMILIES and account.family_id is None and not g.famille_actor.is_acting:
        abort(404)
    return None


def _load_optional_user() -> None:
    """Public pages still show the menu when someone is logged in (never for the API, which
    accepts no cookie, nor for the health page)."""
    if request.blueprint in ("api", "health"):
        return  # the health page neither reads nor refreshes a session (host_flask/health.py)
    if "famille_login" not in g and session.get("uid") is not None:
        _load_user()


def _check_request() -> ResponseReturnValue | None:
    """Every request: its audience (:func:`_enforce_access`), then the optional login of the
    pages open to all (one hook instead of two: Flask wraps each hook at each request)."""
    answer = _enforce_access()
    if answer is not None:
        return answer
    _load_optional_user()
    return None


def install(app: Flask) -> None:
    """Check every request's session and audience, and give templates the user."""
    session_cookie.install(app)
    storage = app.extensions[EXTENSION].storage
    app.extensions[ACCOUNT_READER] = account_reader(storage) if isinstance(storage, Engine) else None
    app.before_request(_check_request)
    app.teardown_request(lambda _exc: feed.set_author(feed.SYSTEM_AUTHOR))

    @app.context_processor
    def _inject_user() -> dict[str, Any]:
        account = g.get("famille_login")
        user: Any = None
        if account is not None:
            loaded = g.get("famille_user")  # changed in this request: the entity as it is now
            user = loaded if loaded is not None else TemplateUser(account)
        return {
            "current_user": user,
            "session_idle_seconds": idle_seconds_left(),
            "utc_now": datetime.now(UTC),
        }


def idle_seconds_left() -> int:
    """Seconds before the idle timeout, as the page's warning counts them: from the last recorded
    activity (see SEEN_REFRESH). A template rendered outside a request (a PDF, an e-mail from a
    job) has no session: the whole limit. The fast pages put it into a cached page at each view
    (host_flask/page_cache.py)."""
    seen = _seen_at() if has_request_context() else None
    user = g.get("famille_login") if has_request_context() else None
    left = _idle_limit() - (now() - seen if seen is not None and user is not None else timedelta())
    return max(int(left.total_seconds()), 0)
