"""Fixtures of the JSON API tests: a client and a token with every scope."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from famille_core import Portal
from famille_core.entities import Scope
from famille_core.services.api_clients import create_client


def make_token(portal: Portal, name: str, scopes: Iterable[str]) -> str:
    with portal.unit_of_work() as uow:
        _client, token = create_client(portal, uow, name, scopes)
        uow.commit()
    return token


@pytest.fixture
def token(demo: Portal) -> str:
    """A token of the ERP client, with every scope."""
    return make_token(demo, "erp", [scope.value for scope in Scope])


@pytest.fixture
def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
