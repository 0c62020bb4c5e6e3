"""The JSON API for machines (``/api/v1``): token authentication with scopes, RFC 9457 errors,
OpenAPI 3.1 generated from the classes the code validates with."""

from host_flask.api.views import bp

__all__ = ["bp"]
