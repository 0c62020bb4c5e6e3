"""Machine clients of the JSON API: per-client tokens with scopes, stored hashed, revocable."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable

from famille_core.entities import ApiClient, Scope
from famille_core.errors import Issue, NotFound, raise_if
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork

TOKEN_PREFIX = "fam_"  # noqa: S105 - a public prefix, not a secret


def hash_token(token: str) -> str:
    """SHA-256 of a token (tokens are 256-bit random: a slow hash adds nothing)."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_client(
    portal: Portal, uow: UnitOfWork, name: str, scopes: Iterable[str]
) -> tuple[ApiClient, str]:
    """Create a client; returns it with its token, which is shown once and never stored."""
    scopes = sorted(set(scopes))
    known = {scope.value for scope in Scope}
    issues = [
        Issue("unknown_scope", f"Périmètre inconnu : {s}.", "scopes")
        for s in scopes
        if s not in known
    ]
    if not name.strip():
        issues.append(Issue("required", "Le nom du client est obligatoire.", "name"))
    elif uow.first(ApiClient, name=name) is not None:
        issues.append(Issue("name_taken", "Un client porte déjà ce nom.", "name"))
    raise_if(issues)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = ApiClient(
        name=name, token_hash=hash_token(token), scopes=scopes, created_at=portal.clock.now()
    )
    uow.add(client)
    uow.flush()
    return client, token


def client_for_token(portal: Portal, uow: UnitOfWork, token: str) -> ApiClient | None:
    """The active client owning ``token``, or ``None`` (unknown or revoked)."""
    if not token.startswith(TOKEN_PREFIX):
        return None
    client = uow.first(ApiClient, token_hash=hash_token(token))
    if client is None or client.revoked_at is not None:
        return None
    client.last_used_at = portal.clock.now()
    return client


def revoke_client(portal: Portal, uow: UnitOfWork, name: str) -> ApiClient:
    """Revoke a client: its token stops working at once."""
    client = uow.first(ApiClient, name=name)
    if client is None:
        raise NotFound(f"Client API inconnu : {name}.")
    if client.revoked_at is None:
        client.revoked_at = portal.clock.now()
    return client
