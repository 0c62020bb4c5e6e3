"""The thin Flask host of Portail Famille (extra ``web``).

``create_app()`` builds the web application around a :class:`famille_core.Portal`: login and
sessions, the French layout, the home page, and the blueprints of the enabled plugins.
"""

from host_flask.app import create_app
from host_flask.context import get_portal

__all__ = ["create_app", "get_portal"]
