"""The toolkit: the one host module that plugins import (their web pages and their API).

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
refuses a plugin that imports it. A plugin's modules without web (services, settings, commands)
import neither the toolkit nor Flask: commands receive the portal factory from
``register_commands(cli, portal_factory)``.

The names, by use:

* the request: :func:`get_portal`, :func:`request_uow`, :func:`current_actor`, :func:`current_user`;
* fast pages: :func:`cached_page` (a family's page answered from memory while its household's
  data is unchanged, docs/deployment.md "Fast pages");
* who may open a page: :func:`public`, :func:`agents_only`, :func:`families_only`,
  :func:`recent_login_required`, :func:`open_to_acting_agents` (a family page an agent acting for the
  household may use: docs/agents.md);
* browser security: :func:`csrf_exempt`, :func:`add_csp_source`;
* pages that moved: :func:`moved_pages`;
* secrets an anonymous person may guess: :func:`limiter`, :class:`Check`, :func:`client_address`
  (the attempt limiter the login uses, docs/security.md point 3);
* forms: :func:`form_action` and :class:`Refusal` (one answer for a refused form), :func:`form_id`,
  :func:`optional_form_id`, :func:`form_day`, :func:`query_day`, :data:`MAX_ID`;
* the JSON API (``/api/v1``, hook ``api_operations``): :func:`api_operation` and the
  :class:`Operation` it makes; in the view, :func:`body_as`, :func:`api_page`, :func:`api_period`,
  :func:`query_filters`, :func:`page_of`, :func:`paginate` (a page of rows, to shape oneself),
  :func:`current_client` (the ERP calling), :class:`UpsertResult` (what an upsert did),
  :class:`ApiError` and :class:`FieldError`; the query
  parameters :data:`PAGE_PARAMS`, :data:`DATE_RANGE`, :data:`FAMILY_FILTER`,
  :data:`EXTERNAL_FILTER` and :class:`QueryParam`;
* outside a request: :func:`portal_from_configuration`.
"""

from __future__ import annotations

from host_flask.access import (
    agents_only,
    current_actor,
    current_user,
    families_only,
    open_to_acting_agents,
    public,
    recent_login_required,
)
from host_flask.api.framework import (
    ApiError,
    Operation,
    QueryParam,
    api_operation,
    body_as,
    current_client,
)
from host_flask.api.models import UpsertResult
from host_flask.api.queries import (
    DATE_RANGE,
    EXTERNAL_FILTER,
    FAMILY_FILTER,
    PAGE_PARAMS,
    api_page,
    api_period,
    page_of,
    paginate,
    query_filters,
)
from host_flask.attempts import Check, client_address, limiter
from host_flask.context import get_portal, request_uow
from host_flask.forms import Refusal, form_action
from host_flask.instance import current_portal as portal_from_configuration
from host_flask.moved import moved_pages
from host_flask.page_cache import cached_page
from host_flask.params import MAX_ID, form_day, form_id, optional_form_id, query_day
from host_flask.problems import FieldError
from host_flask.security import add_csp_source, csrf, csrf_exempt

__all__ = [
    "DATE_RANGE",
    "EXTERNAL_FILTER",
    "FAMILY_FILTER",
    "MAX_ID",
    "PAGE_PARAMS",
    "ApiError",
    "Check",
    "FieldError",
    "Operation",
    "QueryParam",
    "Refusal",
    "UpsertResult",
    "add_csp_source",
    "agents_only",
    "api_operation",
    "api_page",
    "api_period",
    "body_as",
    "cached_page",
    "client_address",
    "csrf",
    "csrf_exempt",
    "current_actor",
    "current_client",
    "current_user",
    "families_only",
    "form_action",
    "form_day",
    "form_id",
    "get_portal",
    "limiter",
    "moved_pages",
    "open_to_acting_agents",
    "optional_form_id",
    "page_of",
    "paginate",
    "portal_from_configuration",
    "public",
    "query_day",
    "query_filters",
    "recent_login_required",
    "request_uow",
]
