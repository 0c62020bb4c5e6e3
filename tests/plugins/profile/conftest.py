"""Helpers for the profile plugin's tests."""

from __future__ import annotations

import re
from typing import Any

from flask.testing import FlaskClient

from famille_core import Portal
from famille_core.entities import Child
from tests.conftest import csrf_token


def child_id(portal: Portal, first_name: str) -> int:
    """The id of a demo child (Lucas, Emma: DUPONT; Léa: MARTIN and BERNARD; Hugo: PETIT)."""
    with portal.unit_of_work() as uow:
        child = uow.first(Child, first_name=first_name)
        assert child is not None and child.id is not None
        return child.id


def form_version(client: FlaskClient, path: str) -> str:
    """The version a form page carries."""
    page = client.get(path).get_data(as_text=True)
    match = re.search(r'name="version" value="(\d+)"', page)
    assert match, f"no version on {path}"
    return match.group(1)


def post_form(client: FlaskClient, path: str, data: dict[str, Any], **kwargs: Any) -> Any:
    """POST ``data`` to ``path`` with the form's CSRF token and version (unless given)."""
    data = {"csrf_token": csrf_token(client, path), **data}
    data.setdefault("version", form_version(client, path))
    return client.post(path, data=data, **kwargs)
