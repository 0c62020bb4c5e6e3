"""Invitations: an account for each guardian, activated by the person who chooses a password.

An invited account exists before its owner has a password (:attr:`User.activated_at` is
``None`` and no password matches it). The invitation is a single-use activation code stored
hashed in the same table as reset links (docs/security.md point 5):

* a guardian with an e-mail address gets a link carrying 256 random bits (in the fragment, never
  in a request line: docs/security.md point 37), valid ``[portal] activation_days``;
* a guardian without one gets a letter per family, printed by the town, with a shorter code
  typed by hand (about 99 bits, attempt-limited like every secret: point 36) on the public page
  "Activer mon compte", where the person also gives the address they will log in with — it
  becomes their login once they confirm it from that mailbox (:mod:`.email_change`).

A new code ends the older ones of the account, and so does choosing a password by any way.
Nobody learns whether an address has an account: the public pages answer the same, and an
address already used by another account is never told to whoever typed it (point 4).
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable
from datetime import timedelta
from typing import TYPE_CHECKING

from attrs import define, field, frozen

from famille_core.entities import Actor, Family, Guardian, Role, User
from famille_core.errors import ValidationFailed
from famille_core.services import accounts, email_change
from famille_core.services.audit import audit
from famille_core.uow import In, UnitOfWork

if TYPE_CHECKING:
    from famille_core.portal import Portal

log = logging.getLogger(__name__)

LETTER_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
"""Letters and digits that cannot be mistaken for one another when typed (no I/1, O/0)."""
LETTER_CODE_LENGTH = 20
"""20 characters of 32: 100 random bits, typed in groups of five."""

NO_ADDRESS_DOMAIN = "invitation.invalid"
"""Login address of an account invited by letter until its owner gives one (``.invalid`` is
reserved: nothing is ever delivered there)."""

INVALID_CODE = "Ce code d'activation n'est plus valable : demandez-en un nouveau à la mairie."


def activation_lifetime(portal: Portal) -> timedelta:
    """How long an invitation stays valid (``[portal] activation_days``)."""
    return timedelta(days=portal.settings.portal.activation_days)


def has_address(user: User) -> bool:
    """False for an account invited by letter whose owner has not given an address yet."""
    return not user.email.endswith("@" + NO_ADDRESS_DOMAIN)


def new_letter_code() -> str:
    """A code to print on a letter: ``ABCDE-FGHJK-LMNPQ-RSTUV``."""
    raw = "".join(secrets.choice(LETTER_ALPHABET) for _ in range(LETTER_CODE_LENGTH))
    return "-".join(raw[i : i + 5] for i in range(0, LETTER_CODE_LENGTH, 5))


def _letter_form(code: str) -> str:
    """A typed letter code as printed (case, spaces and dashes do not matter)."""
    raw = "".join(ch for ch in code.upper() if ch.isalnum())
    return "-".join(raw[i : i + 5] for i in range(0, len(raw), 5))


@frozen
class Invitation:
    """One invitation made: ``code`` is e-mailed (``by_letter`` false) or printed."""

    user: User
    code: str
    by_letter: bool


def _account_of(portal: Portal, uow: UnitOfWork, guardian: Guardian) -> User:
    """The guardian's account, created (invited, without password) when there is none."""
    user = uow.first(User, guardian_id=guardian.id)
    if user is not None:
        return user
    email = accounts.normalise_email(guardian.email) if guardian.email else ""
    if not email or "@" not in email or uow.first(User, email=email) is not None:
        # No address, or one another account already logs in with: the invitation goes by
        # letter and the person gives the address they want (never told which is taken).
        email = f"{secrets.token_hex(8)}@{NO_ADDRESS_DOMAIN}"
    now = portal.clock.now()
    user = User(
        email=email,
        password_hash=accounts.NO_PASSWORD,
        role=Role.PARENT,
        display_name=f"{guardian.first_name} {guardian.last_name}".strip(),
        family_id=guardian.family_id,
        guardian_id=guardian.id,
        session_nonce=accounts.new_nonce(),
        created_at=now,
    )
    uow.add(user)
    uow.flush()
    return user


def invite_account(
    portal: Portal, uow: UnitOfWork, actor: Actor, user: User, *, send: bool = True
) -> Invitation:
    """(Re)invite ``user``: a new activation code, e-mailed or to print; older ones end.
    ``send=False`` e-mails nothing (the demo's invited account).

    Refused for an account already activated (it has a password: "Mot de passe oublié" is the
    way back in) or deactivated.
    """
    if not user.is_invited:
        raise ValidationFailed.single(
            "already_active", "Ce compte est déjà activé : la personne peut se connecter."
        )
    if not user.is_active:
        raise ValidationFailed.single("inactive", "Ce compte est désactivé.")
    by_letter = not has_address(user)
    code = accounts.issue_code(
        portal,
        uow,
        user,
        purpose="activation",
        lifetime=activation_lifetime(portal),
        code=new_letter_code() if by_letter else None,
    )
    user.invited_at = portal.clock.now()
    if send and not by_letter:
        _email_invitation(portal, uow, user, code)
    audit(portal, uow, actor, "account_invited", "user_account", user.id, user.family_id)
    log.info("account invited", extra={"user_id": user.id})
    return Invitation(user=user, code=code, by_letter=by_letter)


def invite_guardian(
    portal: Portal, uow: UnitOfWork, actor: Actor, guardian: Guardian, *, send: bool = True
) -> Invitation:
    """Invite ``guardian`` (creating their account when needed)."""
    return invite_account(portal, uow, actor, _account_of(portal, uow, guardian), send=send)


def invite_imported(portal: Portal, uow: UnitOfWork, family: Family) -> None:
    """After an import or the API created or updated ``family``: with
    ``[portal] invite_imported_guardians``, invite each of its guardians who has no account yet
    (an account that exists, invited or not, is left as it is)."""
    if not portal.settings.portal.invite_imported_guardians or family.id is None:
        return
    uow.flush()
    for guardian in uow.find(Guardian, family_id=family.id, order_by=("id",)):
        if uow.first(User, guardian_id=guardian.id) is None:
            invite_guardian(portal, uow, Actor.system(), guardian)


def activation_link(portal: Portal, code: str) -> str:
    """The e-mailed link: the code rides in the fragment (docs/security.md point 37)."""
    return f"{portal.settings.portal.base_url.rstrip('/')}/activer#code={code}"


def _email_invitation(portal: Portal, uow: UnitOfWork, user: User, code: str) -> None:
    collectivity = portal.settings.collectivity
    days = portal.settings.portal.activation_days
    body = (
        "Bonjour,\n\n"
        f"{collectivity.name} vous ouvre un compte sur le Portail Famille : réservations, "
        "factures, messages et dossier de vos enfants.\n\n"
        f"Pour choisir votre mot de passe, ouvrez ce lien (valable {days} jours, une seule "
        f"fois) :\n{activation_link(portal, code)}\n\n"
        f"Si la page vous demande un code, copiez celui-ci :\n{code}\n\n"
        f"Votre identifiant sera cette adresse e-mail : {user.email}\n"
    )
    accounts.send_email(portal, uow, user.email, "Portail Famille : activez votre compte", body, "invitation")


def activate(portal: Portal, uow: UnitOfWork, code: str, password: str, email: str = "") -> User:
    """Choose the password of an invited account with its activation code (e-mailed link or
    letter). A letter's account also needs ``email``, the address to log in with: a
    confirmation is sent there (:func:`famille_core.services.email_change.request_change`).

    One refusal for every bad code (unknown, used, expired, ended by a newer one or by a
    password change); nothing changes when refused.
    """
    code = code.strip()
    hashes = [accounts.token_hash(code), accounts.token_hash(_letter_form(code))]
    _record, user = accounts.take_code(portal, uow, hashes, "activation", INVALID_CODE)
    email = accounts.normalise_email(email)
    if not has_address(user) and (not email or email_change.address_issues(email)):
        raise ValidationFailed.single(
            "email_required",
            "Indiquez l'adresse e-mail avec laquelle vous vous connecterez.",
            "email",
        )
    accounts.set_password(portal, uow, user, password, "votre compte a été activé")
    if not has_address(user):
        email_change.send_confirmation(portal, uow, user, email)
    log.info("account activated", extra={"user_id": user.id})
    return user


def families_to_invite(uow: UnitOfWork) -> list[Family]:
    """Households without an active login (nobody of the household has chosen a password)."""
    active = {
        user.family_id
        for user in uow.find(User, role=Role.PARENT, is_active=True)
        if user.activated_at is not None
    }
    return [family for family in uow.find(Family, order_by=("name", "id")) if family.id not in active]


@define
class InvitationSummary:
    """What ``famille invite`` and the "Inviter" page did (or would do, in a dry run)."""

    families: int = 0
    emails: int = 0
    letters: list[Invitation] = field(factory=list)
    letters_to_print: int = 0
    reminders: int = 0
    """Of the e-mails and letters, those to guardians already invited (a new code)."""
    disabled: int = 0
    """Guardians whose account is deactivated: not invited."""
    without_guardian: int = 0


BATCH_FAMILIES = 200


def invite_families(
    portal: Portal,
    actor: Actor,
    *,
    dry_run: bool = False,
    progress: Callable[[int], None] | None = None,
) -> InvitationSummary:
    """Invite every guardian of every household without an active login — a new account for
    those without one, a new code for those invited before (their older code ends) —
    committing every :data:`BATCH_FAMILIES` households. A deactivated account is left alone.
    """
    summary = InvitationSummary()
    with portal.unit_of_work() as uow:
        family_ids = [family.id for family in families_to_invite(uow)]
    summary.families = len(family_ids)
    for start in range(0, len(family_ids), BATCH_FAMILIES):
        batch = family_ids[start : start + BATCH_FAMILIES]
        with portal.unit_of_work() as uow:
            _invite_batch(portal, uow, actor, batch, summary, dry_run=dry_run)
            if not dry_run:
                uow.commit()
        if progress is not None:
            progress(len(batch))
    return summary


def _invite_batch(
    portal: Portal,
    uow: UnitOfWork,
    actor: Actor,
    family_ids: list[int | None],
    summary: InvitationSummary,
    *,
    dry_run: bool,
) -> None:
    guardians = uow.find(Guardian, family_id=In(family_ids), order_by=("family_id", "id"))
    with_guardian = {guardian.family_id for guardian in guardians}
    summary.without_guardian += len([i for i in family_ids if i not in with_guardian])
    accounts_of = {
        user.guardian_id: user
        for user in uow.find(User, guardian_id=In([g.id for g in guardians]))
    }
    for guardian in guardians:
        user = accounts_of.get(guardian.id)
        if user is not None and not user.is_active:
            summary.disabled += 1
            continue
        summary.reminders += user is not None
        if dry_run:
            email = accounts.normalise_email(guardian.email)
            if user is not None:
                by_letter = not has_address(user)
            else:
                by_letter = not email or uow.first(User, email=email) is not None
            summary.letters_to_print += by_letter
            summary.emails += not by_letter
            continue
        invitation = invite_guardian(portal, uow, actor, guardian)
        if invitation.by_letter:
            summary.letters.append(invitation)
            summary.letters_to_print += 1
        else:
            summary.emails += 1


def reissue_letters(portal: Portal, uow: UnitOfWork, actor: Actor) -> list[Invitation]:
    """New codes for every invited account waiting for a letter (the older codes end): what
    the "Courriers à imprimer" PDF prints."""
    waiting = [
        user
        for user in uow.find(User, role=Role.PARENT, is_active=True, activated_at=None)
        if not has_address(user)
    ]
    return [invite_account(portal, uow, actor, user) for user in waiting]
