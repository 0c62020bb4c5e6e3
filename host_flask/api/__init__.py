"""The JSON API for machines (``/api/v1``): token authentication with scopes, RFC 9457 errors,
OpenAPI 3.1 generated from the classes the code validates with. The core's operations and those
of the enabled plugins (hook ``api_operations``) share one blueprint per application."""

from host_flask.api.views import PREFIX, init_app

__all__ = ["PREFIX", "init_app"]
