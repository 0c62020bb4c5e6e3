"""The WSGI entry point for another server than ``famille serve --production``::

    waitress-serve --listen=127.0.0.1:8000 host_flask.wsgi:app
    gunicorn --workers 4 --bind 127.0.0.1:8000 host_flask.wsgi:app

The instance is found as the command line finds it (``FAMILLE_INSTANCE``, ``FAMILLE_CONFIG``,
``FAMILLE_DATABASE_URL``, ``FAMILLE_SECRET_KEY``), and logging is set from ``[logging]``. The
server's own access log is then that server's: only ``famille serve --production`` keeps secrets
out of it (docs/deployment.md, "Other servers").
"""

from __future__ import annotations

from host_flask import create_app, logs
from host_flask.instance import current_settings

logs.configure(current_settings())
app = create_app()
