"""The toolkit: the one host module that plugins import (their web pages and their commands).

Like CKAN's ``ckan.plugins.toolkit``, it is a stable facade: the host's internals (its app
factory, its command line, how a request finds its unit of work) can move without breaking a
plugin, as long as these names keep their meaning. docs/plugins.md shows them in use::

    from host_flask import toolkit as tk

    @bp.route("/")
    @tk.families_only
    def index():
        uow = tk.request_uow()
        ...

Everything else under ``host_flask`` is private to the host; ``tests/test_import_contract.py``
refuses a plugin that imports it.
"""

from __future__ import annotations

from host_flask.access import (
    agents_only,
    current_actor,
    current_user,
    families_only,
    public,
    recent_login_required,
)
from host_flask.app import get_portal
from host_flask.moved import moved_pages
from host_flask.params import MAX_ID, form_day, form_id, optional_form_id, query_day
from host_flask.security import add_csp_source, csrf
from host_flask.uow import request_uow

__all__ = [
    "MAX_ID",
    "add_csp_source",
    "agents_only",
    "csrf",
    "current_actor",
    "current_user",
    "families_only",
    "form_day",
    "form_id",
    "get_portal",
    "moved_pages",
    "optional_form_id",
    "public",
    "query_day",
    "recent_login_required",
    "request_uow",
]
