"""Logins: creation, authentication, session revocation."""

from __future__ import annotations

import hashlib
import logging
import secrets
from datetime import timedelta
from typing import TYPE_CHECKING

from famille_core.clock import PARIS
from famille_core.entities import PasswordResetToken, Role, User
from famille_core.errors import Issue, ValidationFailed, raise_if
from famille_core.hooks.results import Notification
from famille_core.services.passwords import (
    DUMMY_HASH,
    hash_password,
    needs_rehash,
    password_issues,
    verify_password,
)
from famille_core.uow import UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal

log = logging.getLogger(__name__)


def normalise_email(email: str) -> str:
    """Logins compare e-mails case-insensitively."""
    return email.strip().lower()


def context_words(portal: Portal) -> tuple[str, ...]:
    """Words a password must not contain for this collectivity."""
    return (portal.settings.collectivity.name, *portal.settings.collectivity.name.split())


def create_user(
    portal: Portal,
    uow: UnitOfWork,
    *,
    email: str,
    password: str,
    role: Role,
    display_name: str,
    family_id: int | None = None,
    guardian_id: int | None = None,
    service: str | None = None,
    password_hash: str | None = None,
) -> User:
    """Create a login after checking the password policy and that the e-mail is free.

    ``password_hash`` is the Argon2 hash of ``password`` when the caller already holds it (the
    demo, built again for every test, hashes each of its passwords once per process).
    """
    email = normalise_email(email)
    issues = password_issues(password, context_words(portal))
    if "@" not in email:
        issues.append(Issue("email", "Adresse e-mail invalide.", "email"))
    elif uow.first(User, email=email) is not None:
        issues.append(Issue("email_taken", "Cette adresse est déjà utilisée.", "email"))
    if role is Role.PARENT and family_id is None:
        issues.append(
            Issue("family_required", "Un compte parent doit être rattaché à une famille.")
        )
    if role is not Role.PARENT and (family_id is not None or guardian_id is not None):
        # An agent sees every household: the same account must never also act for one
        # (docs/security.md point 10). A person who is both gets two accounts.
        issues.append(
            Issue(
                "agent_in_household",
                "Un compte agent ne peut pas être rattaché à une famille : créez deux comptes "
                "distincts (un compte agent, un compte famille), avec deux adresses e-mail.",
            )
        )
    raise_if(issues)
    user = User(
        email=email,
        password_hash=password_hash or hash_password(password),
        role=role,
        display_name=display_name,
        family_id=family_id,
        guardian_id=guardian_id,
        service=service,
        session_nonce=new_nonce(),
        created_at=portal.clock.now(),
        activated_at=portal.clock.now(),
    )
    uow.add(user)
    uow.flush()
    return user


def authenticate(portal: Portal, uow: UnitOfWork, email: str, password: str) -> User | None:
    """The active user with these credentials, or ``None``.

    Unknown logins cost the same as known ones (a dummy hash is verified), so the answer time
    does not reveal which e-mails have an account.
    """
    user = uow.first(User, email=normalise_email(email))
    if user is None or not user.is_active or user.is_invited:
        # An invited account has no password yet: it answers as an unknown one.
        verify_password(DUMMY_HASH, password)
        log.info("login failed")
        return None
    if not verify_password(user.password_hash, password):
        log.info("login failed", extra={"user_id": user.id})
        return None
    if user.mixes_roles:
        log.warning("login refused: agent account attached to a household", extra={"user_id": user.id})
        return None
    if needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    user.last_login_at = portal.clock.now()
    log.info("login succeeded", extra={"user_id": user.id})
    return user


def new_nonce() -> str:
    """A fresh session nonce (every session cookie carries the account's current one)."""
    return secrets.token_urlsafe(16)


def revoke_sessions(user: User) -> None:
    """End every session of ``user`` (logout, password change, deactivation)."""
    user.session_nonce = new_nonce()


def change_password(
    portal: Portal, uow: UnitOfWork, user: User, current: str, new: str, confirm: str | None = None
) -> None:
    """Change a password after checking the current one; ends the other sessions.

    Every problem is reported at once — a wrong current password, a weak new one, a
    confirmation (when given) that differs — so a person fixes the form in one go."""
    issues: list[Issue] = []
    if not verify_password(user.password_hash, current):
        issues.append(Issue("wrong_password", "Mot de passe actuel incorrect.", "current"))
    issues += password_issues(new, context_words(portal))
    if confirm is not None and confirm != new:
        issues.append(Issue("mismatch", "Les deux mots de passe ne sont pas identiques.", "confirm"))
    raise_if(issues)
    set_password(portal, uow, user, new, "votre mot de passe a été changé")


RESET_LIFETIME = timedelta(hours=1)

NO_PASSWORD = "!"  # noqa: S105 (not a password: a hash nothing matches)
"""The password hash of an invited account: no password ever matches it (docs/security.md
point 5: the person chooses one with a single-use code)."""


def token_hash(token: str) -> str:
    """What is stored of a single-use code (reset, activation, new address): its SHA-256."""
    return hashlib.sha256(token.encode()).hexdigest()


def _end_reset_tokens(portal: Portal, uow: UnitOfWork, user: User) -> None:
    """End every unused code of ``user`` — reset links, activation links and letter codes,
    address confirmations: only the newest one ever works, and none after the password changed
    (docs/security.md point 5)."""
    now = portal.clock.now()
    for record in uow.find(PasswordResetToken, user_id=user.id, used_at=None):
        record.used_at = now


def issue_code(
    portal: Portal,
    uow: UnitOfWork,
    user: User,
    *,
    purpose: str,
    lifetime: timedelta,
    code: str | None = None,
    new_email: str | None = None,
) -> str:
    """Store the hash of a new single-use code of ``user`` for ``purpose`` (ending the older
    ones) and return the code: 256 random bits unless ``code`` is given (a letter's shorter
    code, typed by hand and attempt-limited)."""
    assert user.id is not None
    _end_reset_tokens(portal, uow, user)
    code = code or secrets.token_urlsafe(32)  # 256 bits
    now = portal.clock.now()
    uow.add(
        PasswordResetToken(
            user_id=user.id,
            token_hash=token_hash(code),
            created_at=now,
            expires_at=now + lifetime,
            purpose=purpose,
            new_email=new_email,
        )
    )
    return code


INVALID_LINK = "Ce lien n'est plus valable : demandez-en un nouveau."


def take_code(
    portal: Portal, uow: UnitOfWork, hashes: list[str], purpose: str, message: str = INVALID_LINK
) -> tuple[PasswordResetToken, User]:
    """The unused, unexpired code of ``purpose`` among ``hashes`` and its active account, marked
    used; otherwise one refusal, whatever the reason (unknown, used, expired, ended)."""
    now = portal.clock.now()
    for digest in hashes:
        record = uow.first(PasswordResetToken, token_hash=digest)
        if record is None or record.purpose != purpose:
            continue
        if record.used_at is not None or record.expires_at <= now:
            break
        user = uow.get(User, record.user_id)
        if user is None or not user.is_active:
            break
        record.used_at = now
        return record, user
    raise ValidationFailed.single("invalid_token", message, "token")


def request_password_reset(portal: Portal, uow: UnitOfWork, email: str) -> str | None:
    """Create a reset token for the active user of ``email``.

    An invited account gets one too: choosing a password through it activates the account.

    :return: the token to e-mail, or ``None`` when no active account uses this address. Callers
        answer the same in both cases (no account enumeration).
    """
    user = uow.first(User, email=normalise_email(email))
    if user is None or not user.is_active or user.id is None:
        return None
    token = issue_code(portal, uow, user, purpose="reset", lifetime=RESET_LIFETIME)
    log.info("password reset requested", extra={"user_id": user.id})
    return token


def set_password(portal: Portal, uow: UnitOfWork, user: User, new_password: str, change: str) -> None:
    """Give ``user`` a new password (checked against the policy): it activates an invited
    account, ends every session and every unused code, and the owner is told."""
    raise_if(password_issues(new_password, context_words(portal)))
    user.password_hash = hash_password(new_password)
    if user.activated_at is None:
        user.activated_at = portal.clock.now()
    revoke_sessions(user)
    _end_reset_tokens(portal, uow, user)
    security_notice(portal, uow, user, change)


def reset_password(portal: Portal, uow: UnitOfWork, token: str, new_password: str) -> User:
    """Set a new password with a reset token: single use, expires, ends every other session."""
    # The code is checked first (a refusal rolls the whole change back, so a weak password
    # leaves the code usable), so that a wrong code is always reported as one.
    _record, user = take_code(portal, uow, [token_hash(token)], "reset")
    set_password(portal, uow, user, new_password, "votre mot de passe a été réinitialisé")
    log.info("password reset", extra={"user_id": user.id})
    return user


def security_notice(portal: Portal, uow: UnitOfWork, user: User, change: str) -> None:
    """E-mail ``user`` that ``change`` (e.g. "vos coordonnées bancaires") was modified on their
    account. The e-mail is queued in ``uow``: sent if and only if the change commits, even when
    the mail server is down at that moment (docs/security.md point 40). It never contains the
    new data.
    """
    collectivity = portal.settings.collectivity
    when = portal.clock.now().astimezone(PARIS).strftime("%d/%m/%Y à %H:%M")
    body = (
        "Bonjour,\n\n"
        f"Modification sur votre compte du Portail Famille ({collectivity.name}) le {when} : "
        f"{change}.\n\n"
        "Si vous êtes à l'origine de cette modification, vous n'avez rien à faire.\n"
        "Sinon, changez votre mot de passe et prévenez la mairie"
        + (f" ({collectivity.contact_email})" if collectivity.contact_email else "")
        + ".\n"
    )
    send_email(portal, uow, user.email, "Portail Famille : modification de votre compte", body, "security_notice")


def send_email(portal: Portal, uow: UnitOfWork, to: str, subject: str, body: str, kind: str) -> None:
    """Queue an e-mail about an account in ``uow`` (sent if the change commits: docs/security.md
    point 40), through the ``deliver_notification`` hook."""
    portal.hook.deliver_notification(
        portal=portal,
        uow=uow,
        notification=Notification(to=to, subject=subject, body=body, kind=kind),
    )
