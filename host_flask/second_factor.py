"""Second factor (TOTP, RFC 6238) for municipal agents (docs/security.md point 8).

Agents see many children's health data: with ``[portal] agent_second_factor = "required"`` an
agent must enrol an authenticator application before using the portal; with ``"optional"`` (the
default) any user may enable it. A code is accepted once (its time step is remembered).
"""

from __future__ import annotations

import logging
from io import BytesIO

import pyotp
from sqlalchemy import Engine, or_, update

from famille_core.entities import User
from famille_core.persistence.tables import user_account
from famille_core.portal import Portal

log = logging.getLogger(__name__)

ISSUER = "Portail Famille"


def new_secret() -> str:
    """A fresh base32 secret (160 bits)."""
    return pyotp.random_base32(32)


def provisioning_uri(portal: Portal, user: User, secret: str) -> str:
    """The ``otpauth://`` URI an authenticator application reads from the QR code."""
    issuer = f"{ISSUER} {portal.settings.collectivity.name}"
    return pyotp.TOTP(secret).provisioning_uri(name=user.email, issuer_name=issuer)


def qr_svg(uri: str) -> str:
    """The QR code of ``uri`` as an SVG data URI (served inline: no external service)."""
    import segno  # loaded by the page that enables a second factor, not by every page

    buffer = BytesIO()
    segno.make(uri, error="m").save(buffer, kind="svg", scale=4, border=2, title="QR code")
    return "data:image/svg+xml;base64," + __import__("base64").b64encode(buffer.getvalue()).decode()


def _accepted_step(portal: Portal, secret: str, code: str, last_step: int | None) -> int | None:
    code = "".join(ch for ch in code if ch.isdigit())
    if len(code) != 6:
        return None
    totp = pyotp.TOTP(secret)
    now = portal.clock.now()
    step = int(now.timestamp()) // totp.interval
    for candidate in (step, step - 1, step + 1):  # one step of clock drift either way
        if last_step is not None and candidate <= last_step:
            continue
        if totp.at(candidate * totp.interval) == code:
            return candidate
    return None


def verify(portal: Portal, user: User, code: str) -> bool:
    """Check a code of ``user``'s second factor; a code is never accepted twice."""
    if not user.totp_secret:
        return False
    step = _accepted_step(portal, user.totp_secret, code, user.totp_last_step)
    if step is None or not _claim_step(portal, user, step):
        log.info("second factor refused", extra={"user_id": user.id})
        return False
    user.totp_last_step = step
    return True


def _claim_step(portal: Portal, user: User, step: int) -> bool:
    """Record ``step`` as used, unless a later or equal one already is: one atomic conditional
    ``UPDATE``, committed at once, so the same code posted to two workers together passes once
    (the account row each read may be stale; docs/deployment.md, "What is shared")."""
    engine = portal.storage
    if not isinstance(engine, Engine):
        return True  # a storage without SQL keeps the check of the row read (tests, integrators)
    table = user_account
    newer = or_(table.c.totp_last_step.is_(None), table.c.totp_last_step < step)
    claim = update(table).where(table.c.id == user.id, newer).values(totp_last_step=step)
    with engine.begin() as connection:
        return bool(connection.execute(claim).rowcount)


def enable(portal: Portal, user: User, secret: str, code: str) -> bool:
    """Turn the second factor on once the user proves their application shows the right code."""
    step = _accepted_step(portal, secret, code, None)
    if step is None:
        return False
    user.totp_secret = secret
    user.totp_last_step = step
    log.info("second factor enabled", extra={"user_id": user.id})
    return True
