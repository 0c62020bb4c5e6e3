"""One attempt limiter for every secret a person may guess (docs/security.md points 3, 35, 36).

Passwords (login, re-authentication, change of password), second-factor codes, password-reset
requests and codes — and any later secret an anonymous person may guess — go through it::

    attempt = limiter().count(Check("login-address", settings.login_limit, client_address()))
    if not attempt.allowed:
        abort(429)
    ...check the secret (Argon2, TOTP)...
    if right:
        attempt.refund()

An attempt is **counted before** its secret is checked, by one atomic increment in a store shared
by every worker and host, so simultaneous guesses cannot pass together: the first ``n`` of a window
are checked, the others are refused without reaching Argon2. A right answer gives its attempt back.

Counts are fixed windows (the ``limits`` library's semantics): a window opens with its first
attempt and lasts the limit's period; attempts refused inside it do not extend it, so a limit
slows an attacker down and never locks anyone out for longer than one period. The store is chosen
by ``[portal] limiter_storage`` (``FAMILLE_LIMITER_STORAGE`` overrides it):

* empty (the default): the portal's database, table ``attempt_counter`` (:class:`DatabaseStorage`);
* a ``limits`` storage URI: ``redis://host:port/db`` (``rediss://``, ``redis+sentinel://``…,
  with the ``redis`` extra installed), or ``memory://`` for a one-process development server.

A failing store fails closed: no secret is checked uncounted, the person reads a French "try
later" page (503) and the error log names the store's exception, nothing else.
Identifiers (client addresses, e-mails) are stored as keyed hashes, never in clear. The client
address is the peer's, or the one ``[portal] trusted_proxies`` reverse proxies vouch for
(Werkzeug's ``ProxyFix``, installed by :func:`host_flask.app.create_app`).
"""

from __future__ import annotations

import functools
import hashlib
import itertools
import logging
import os
import threading
import time
from typing import Any

from attrs import frozen
from flask import Flask, current_app, request
from limits import RateLimitItem, parse
from limits.errors import ConfigurationError as LimitsConfigurationError
from limits.storage import Storage, storage_from_string
from sqlalchemy import Engine, case, delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.exceptions import ServiceUnavailable

from famille_core.errors import ConfigurationError
from famille_core.persistence import make_engine
from famille_core.persistence.tables import attempt_counter

log = logging.getLogger(__name__)

EXTENSION = "famille_attempts"
RATE_SETTINGS = ("login_limit", "login_account_limit", "second_factor_limit")


@frozen
class Check:
    """One limit on one identifier: at most ``rate`` attempts of the kind ``name`` per
    ``identifier``, e.g. ``Check("login-address", "5 per minute", "203.0.113.7")``."""

    name: str
    rate: str
    identifier: str


@functools.lru_cache(maxsize=64)
def _item(rate: str) -> RateLimitItem:
    return parse(rate)


class Attempt:
    """One attempt, already counted against its checks."""

    def __init__(self, storage: Storage, counted: list[tuple[RateLimitItem, str, int]]) -> None:
        self._storage = storage
        self._counted = counted

    @property
    def allowed(self) -> bool:
        """True when no limit is exceeded: the secret may be checked."""
        return all(count <= item.amount for item, _key, count in self._counted)

    @property
    def last(self) -> bool:
        """True when this attempt was the last one a limit allows in its window."""
        return self.allowed and any(count == item.amount for item, _key, count in self._counted)

    def refund(self) -> None:
        """Give the attempt back: the secret was right, it does not count against the limits.

        (Given back just after its window ended, it lends one attempt to the next window.)
        """
        for item, key, _count in self._counted:
            self._storage.incr(key, item.get_expiry(), amount=-1)
        self._counted = []

    def clear(self) -> None:
        """Forget every attempt counted under these checks (the owner proved who they are)."""
        for _rate, key, _count in self._counted:
            self._storage.clear(key)
        self._counted = []


class AttemptLimiter:
    """Counts attempts in a ``limits`` storage (see the module's documentation)."""

    def __init__(self, storage: Storage, *, secret: str | bytes, namespace: str = "famille") -> None:
        self.storage = storage
        self.namespace = namespace
        raw = secret.encode() if isinstance(secret, str) else secret
        self._hash_key = hashlib.sha256(b"famille-attempts\0" + raw).digest()

    def count(self, *checks: Check) -> Attempt:
        """Count one attempt against every check (all are counted, even past a limit)."""
        counted = []
        try:
            for check in checks:
                item, key = self._key(check)
                counted.append((item, key, self.storage.incr(key, item.get_expiry())))
        except self.storage.base_exceptions as exc:
            # Fail closed: no secret is checked uncounted; the person reads "try later" (503).
            log.error("attempt store unreachable: %s", type(exc).__name__)
            raise ServiceUnavailable() from exc
        return Attempt(self.storage, counted)

    def exceeded(self, check: Check) -> bool:
        """True when ``check``'s limit is reached in its current window (nothing is counted)."""
        item, key = self._key(check)
        return self.storage.get(key) >= item.amount

    def clear(self, *checks: Check) -> None:
        """Forget the attempts counted under ``checks`` (e.g. after a password reset)."""
        for check in checks:
            self.storage.clear(self._key(check)[1])

    def _key(self, check: Check) -> tuple[RateLimitItem, str]:
        item = _item(check.rate)
        digest = hashlib.blake2b(
            check.identifier.encode(), key=self._hash_key, digest_size=16
        ).hexdigest()
        return item, item.key_for(self.namespace, check.name, digest)


def _insert_for(engine: Engine) -> Any:
    return {"postgresql": postgresql.insert, "sqlite": sqlite.insert}[engine.dialect.name]


class DatabaseStorage(Storage):
    """Counters in the portal's database (table ``attempt_counter``).

    Each increment is one atomic ``INSERT … ON CONFLICT DO UPDATE … RETURNING`` (PostgreSQL and
    SQLite) committed at once in its own transaction, whatever becomes of the request's: two
    workers incrementing together get two different counts. Expired rows are deleted now and then.

    The counters use connections of their own (:func:`_counter_engine`): a request already
    holding one of the portal's connections never waits for a second one from the same pool, which
    a burst of simultaneous attempts would exhaust. SQLite has one writer at a time: count an
    attempt before the request writes anything, and give it back once the request's transaction
    is committed (as the login views do).
    """

    STORAGE_SCHEME = None  # built from the portal's engine, not from a URI
    PURGE_EVERY = 200
    """Delete expired counters once every this many increments (per process)."""

    def __init__(self, engine: Engine) -> None:
        if engine.dialect.name not in ("postgresql", "sqlite"):
            raise ConfigurationError(
                "Configuration invalide — portal.limiter_storage : la base "
                f"« {engine.dialect.name} » ne peut pas garder les compteurs de tentatives ; "
                "indiquez un serveur Redis (redis://…)."
            )
        super().__init__()
        self.engine = _counter_engine(engine)
        self._calls = itertools.count(1)

    @property
    def base_exceptions(self) -> type[Exception]:
        return SQLAlchemyError

    def incr(self, key: str, expiry: int | float, amount: int = 1) -> int:
        now = time.time()
        table = attempt_counter
        insert = _insert_for(self.engine)(table).values(
            name=key, hits=amount, expires_at=now + expiry
        )
        expired = table.c.expires_at <= now
        statement = insert.on_conflict_do_update(
            index_elements=[table.c.name],
            set_={
                "hits": case((expired, insert.excluded.hits), else_=table.c.hits + amount),
                "expires_at": case(
                    (expired, insert.excluded.expires_at), else_=table.c.expires_at
                ),
            },
        ).returning(table.c.hits)
        with self.engine.begin() as connection:
            hits = connection.execute(statement).scalar_one()
            if next(self._calls) % self.PURGE_EVERY == 0:
                connection.execute(delete(table).where(table.c.expires_at <= now))
        return int(hits)

    def get(self, key: str) -> int:
        row = self._row(key)
        return int(row.hits) if row is not None else 0

    def get_expiry(self, key: str) -> float:
        row = self._row(key)
        return float(row.expires_at) if row is not None else time.time()

    def check(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(select(1))
        except SQLAlchemyError:
            return False
        return True

    def reset(self) -> int | None:
        with self.engine.begin() as connection:
            return int(connection.execute(delete(attempt_counter)).rowcount)

    def clear(self, key: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(delete(attempt_counter).where(attempt_counter.c.name == key))

    def _row(self, key: str) -> Any:
        table = attempt_counter
        query = select(table.c.hits, table.c.expires_at).where(
            table.c.name == key, table.c.expires_at > time.time()
        )
        with self.engine.connect() as connection:
            return connection.execute(query).first()


_counter_engines: dict[str, Engine] = {}
_counter_engines_lock = threading.Lock()


def _counter_engine(engine: Engine) -> Engine:
    """A small pool of its own on the database of ``engine``, one per database and process.

    (An in-memory SQLite database exists only through its own engine: that one is shared.)
    """
    if engine.dialect.name == "sqlite" and engine.url.database in (None, "", ":memory:"):
        return engine
    url = engine.url.render_as_string(hide_password=False)
    with _counter_engines_lock:
        if url not in _counter_engines:
            _counter_engines[url] = make_engine(url, pool_size=2, max_overflow=8)
        return _counter_engines[url]


def storage_for(uri: str, engine: Engine | None) -> Storage:
    """The store named by ``uri`` (empty: the database of ``engine``)."""
    if not uri:
        if not isinstance(engine, Engine):
            raise ConfigurationError(
                "Configuration invalide — portal.limiter_storage : sans base de données SQL, "
                "indiquez où garder les compteurs de tentatives (redis://… ou memory://)."
            )
        return DatabaseStorage(engine)
    try:
        storage = storage_from_string(uri)
    except LimitsConfigurationError as exc:
        raise ConfigurationError(
            f"Configuration invalide — portal.limiter_storage : {exc}"
        ) from exc
    if not isinstance(storage, Storage):  # an async+… storage
        raise ConfigurationError(
            "Configuration invalide — portal.limiter_storage : un stockage synchrone est "
            "nécessaire (redis://…, pas async+redis://…)."
        )
    return storage


def limiter() -> AttemptLimiter:
    """The attempt limiter of the current application."""
    attempts: AttemptLimiter = current_app.extensions[EXTENSION]
    return attempts


def client_address() -> str:
    """The client's address (the peer, or what the trusted proxies vouch for)."""
    return request.remote_addr or "unknown"


def init_app(app: Flask) -> None:
    """Check the configured limits and open the store.

    ``app.config["FAMILLE_ATTEMPTS_NAMESPACE"]`` (default ``"famille"``) prefixes every key: tests
    sharing one Redis server use their own.
    """
    portal = app.extensions["famille"]
    settings = portal.settings.portal
    for name in RATE_SETTINGS:
        try:
            _item(getattr(settings, name))
        except ValueError as exc:
            raise ConfigurationError(
                f"Configuration invalide — portal.{name} : « {getattr(settings, name)} » n'est "
                "pas une limite (par exemple « 5 per minute », « 10 per hour »)."
            ) from exc
    uri = os.environ.get("FAMILLE_LIMITER_STORAGE") or settings.limiter_storage
    app.extensions[EXTENSION] = AttemptLimiter(
        storage_for(uri, portal.storage),
        secret=app.secret_key or "",
        namespace=app.config.get("FAMILLE_ATTEMPTS_NAMESPACE", "famille"),
    )
