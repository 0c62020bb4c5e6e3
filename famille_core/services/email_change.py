"""Changing the login address: a confirmation to the new address, a notice to the old one
(docs/security.md points 4, 5 and 7).

The new address becomes the login only when its mailbox's owner opens the single-use link sent
there (stored hashed, like reset links). Whoever asks reads the same answer whether or not
another account already uses that address; only that mailbox's owner is told so.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from famille_core.entities import Actor, User
from famille_core.errors import Issue, ValidationFailed, raise_if
from famille_core.services import accounts
from famille_core.services.access import require_recent_login
from famille_core.uow import UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal

log = logging.getLogger(__name__)

CONFIRMATION_LIFETIME = timedelta(days=2)

INVALID_CONFIRMATION = "Ce lien de confirmation n'est plus valable : refaites la demande."


def _mail(portal: Portal, uow: UnitOfWork, to: str, subject: str, body: str) -> None:
    accounts.send_email(portal, uow, to, subject, body, "email_change")


def address_issues(email: str) -> list[Issue]:
    """Why ``email`` cannot be a login address (empty when it can)."""
    local, _, domain = email.partition("@")
    if not local or "." not in domain or len(email) > 254 or any(ch.isspace() for ch in email):
        return [Issue("email", "Adresse e-mail invalide.", "email")]
    return []


def request_change(
    portal: Portal, uow: UnitOfWork, actor: Actor, user: User, new_email: str
) -> None:
    """Ask to log in with ``new_email`` from now on (needs a recent login): a confirmation
    goes to the new address, a notice to the current one."""
    require_recent_login(portal, actor)
    new_email = accounts.normalise_email(new_email)
    raise_if(address_issues(new_email))
    if new_email == user.email:
        raise ValidationFailed.single(
            "same_email", "C'est déjà votre adresse de connexion.", "email"
        )
    send_confirmation(portal, uow, user, new_email)
    accounts.security_notice(
        portal,
        uow,
        user,
        "une autre adresse e-mail de connexion a été demandée ; elle ne remplacera celle-ci "
        "qu'une fois confirmée depuis la nouvelle boîte",
    )


def send_confirmation(portal: Portal, uow: UnitOfWork, user: User, new_email: str) -> None:
    """E-mail ``new_email`` a single-use link that makes it ``user``'s login address, or, when
    another account already uses it, tell that mailbox so (and nobody else)."""
    name = portal.settings.collectivity.name
    if uow.first(User, email=new_email) is not None:
        _mail(
            portal,
            uow,
            new_email,
            "Portail Famille : adresse déjà utilisée",
            "Bonjour,\n\nQuelqu'un a demandé que cette adresse serve à se connecter à un compte "
            f"du Portail Famille ({name}), mais un compte l'utilise déjà : elle n'a pas été "
            "changée.\nSi vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n",
        )
        return
    code = accounts.issue_code(
        portal, uow, user, purpose="email", lifetime=CONFIRMATION_LIFETIME, new_email=new_email
    )
    link = f"{portal.settings.portal.base_url.rstrip('/')}/confirmer-adresse#code={code}"
    _mail(
        portal,
        uow,
        new_email,
        "Portail Famille : confirmez votre adresse e-mail",
        "Bonjour,\n\nPour vous connecter au Portail Famille "
        f"({name}) avec cette adresse, ouvrez ce lien (valable deux jours, une seule fois) :\n"
        f"{link}\n\nSi la page vous demande un code, copiez celui-ci :\n{code}\n\n"
        "Si vous n'êtes pas à l'origine de cette demande, ignorez ce message.\n",
    )


def confirm(portal: Portal, uow: UnitOfWork, code: str) -> User:
    """Make the confirmed address the account's login; the old address is told."""
    record, user = accounts.take_code(
        portal, uow, [accounts.token_hash(code.strip())], "email", INVALID_CONFIRMATION
    )
    new_email = record.new_email or ""
    if uow.first(User, email=new_email) is not None:
        # Taken since the request: the mailbox's owner, who opened the link, may know it.
        raise ValidationFailed.single(
            "email_taken", "Un autre compte utilise désormais cette adresse.", "token"
        )
    old_email = user.email
    user.email = new_email
    if not old_email.endswith(".invalid"):
        # docs/security.md point 7: the old address hears of it (never the new value).
        _mail(
            portal,
            uow,
            old_email,
            "Portail Famille : adresse de connexion changée",
            "Bonjour,\n\nL'adresse e-mail de connexion de votre compte du Portail Famille "
            f"({portal.settings.collectivity.name}) a été remplacée : vous ne recevrez plus "
            "ses messages ici.\nSi vous n'êtes pas à l'origine de ce changement, prévenez la "
            "mairie.\n",
        )
    log.info("login address changed", extra={"user_id": user.id})
    return user
