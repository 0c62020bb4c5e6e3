"""Fast pages: a family's page rendered once, then answered from memory until its data changes
(docs/deployment.md, "Fast pages"; docs/security.md point 42).

A view marked :func:`cached_page` (through the toolkit) is looked up, for a parent's own GET, in
a bounded per-process LRU under

* its *slot* — the endpoint, the address as received (scheme, host, path, query string), the
  user, the language and the session's CSRF token (the page's forms embed a token signed from it), and
* its *stamp* — the household's data version and the global one (read with the session check's
  account, *before* the page's data: famille_core/persistence/page_versions.py), and the current
  minute of the portal's clock.

A slot holds one page: a newer stamp replaces it, so a person's old pages never pile up. Every
change a page may show bumps a version in its own transaction, so the next view after a commit
misses on any worker; the minute moves "today", deadlines and dates on. What changes at each
view, the idle countdown (``data-session-idle``), is put in at each answer.

Never cached: an agent's pages (even acting for a family), a page while the session holds flashed
messages or whose rendering flashed one, anything but a 200 HTML answer. The pages live in the
worker's memory only, never on disk or in Redis.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar, cast

from flask import Flask, Response, current_app, g, make_response, message_flashed, request, session
from flask_babel import get_locale
from flask_wtf.csrf import generate_csrf

from famille_core.persistence import page_versions
from famille_core.persistence.account_check import AccountState
from host_flask.context import get_portal, request_uow
from host_flask.sessions import idle_seconds_left

F = TypeVar("F", bound=Callable[..., object])

EXTENSION = "famille_page_cache"
"""``app.extensions[EXTENSION]``: the application's :class:`PageCache` (absent: cache off)."""

IDLE_MARK = "\x00famille-idle\x00"
"""Rendered in place of the idle countdown on a page to cache, replaced at each answer (a NUL
byte is refused in any input, host_flask/security.py, so no page data can hold it)."""

ENTRY_OVERHEAD = 512
"""Bytes counted for an entry besides its HTML (key, stamp, headers)."""

RENDERING = "famille_page_rendering"
FLASHED = "famille_page_flashed"


class Entry(NamedTuple):
    """A rendered page: the stamp it was rendered under, its HTML and its headers."""

    stamp: tuple[int, int, int]
    body: bytes
    headers: list[tuple[str, str]]

    @property
    def size(self) -> int:
        return len(self.body) + ENTRY_OVERHEAD


class PageCache:
    """A bounded LRU of rendered pages: at most ``entries`` pages and ``max_bytes`` of them."""

    def __init__(self, entries: int, max_bytes: int) -> None:
        self.max_entries = entries
        self.max_bytes = max_bytes
        self.bytes = 0
        self.hits = 0
        self.misses = 0
        self._slots: OrderedDict[tuple[Any, ...], Entry] = OrderedDict()
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._slots)

    def get(self, slot: tuple[Any, ...], stamp: tuple[int, int, int]) -> Entry | None:
        """The page of ``slot`` if it was rendered under ``stamp``; counts a hit or a miss."""
        with self._lock:
            entry = self._slots.get(slot)
            if entry is None or entry.stamp != stamp:
                self.misses += 1
                return None
            self._slots.move_to_end(slot)
            self.hits += 1
            return entry

    def put(self, slot: tuple[Any, ...], entry: Entry) -> None:
        """Keep ``entry`` for ``slot`` (replacing an older one), dropping the least recently
        used pages beyond the bounds and those of past minutes."""
        if entry.size > self.max_bytes:
            return
        with self._lock:
            old = self._slots.pop(slot, None)
            if old is not None:
                self.bytes -= old.size
            self._slots[slot] = entry
            self.bytes += entry.size
            while self._slots and (
                len(self._slots) > self.max_entries
                or self.bytes > self.max_bytes
                or _expired(next(iter(self._slots.values())), entry)
            ):
                _slot, dropped = self._slots.popitem(last=False)
                self.bytes -= dropped.size

    def clear(self) -> None:
        with self._lock:
            self._slots.clear()
            self.bytes = 0


def _expired(oldest: Entry, newest: Entry) -> bool:
    """True when ``oldest`` was rendered in an earlier minute than ``newest``: no request will
    match its stamp again, so it only held memory (pages are kept in the order they were used)."""
    return oldest.stamp[2] < newest.stamp[2]


def cache_of(app: Flask) -> PageCache | None:
    """The application's page cache (``None`` when ``page_cache_entries = 0``)."""
    cache: PageCache | None = app.extensions.get(EXTENSION)
    return cache


def _slot() -> tuple[Any, ...] | None:
    """Where this request's page is kept, or ``None`` when it must not be cached."""
    if request.method != "GET" or session.get("_flashes"):
        return None
    user = g.get("famille_login")  # the session check's account (host_flask/access.py signed_in)
    actor = g.get("famille_actor")
    if user is None or actor is None or user.is_agent or actor.is_acting or user.family_id is None:
        return None
    if "csrf_token" not in session:
        generate_csrf()  # the token the page's forms will carry: part of the slot
    environ = request.environ  # raw, as received: no URL decoding on the hit's path
    return (
        request.endpoint,
        environ.get("wsgi.url_scheme"),
        environ.get("HTTP_HOST"),
        environ.get("SCRIPT_NAME"),
        environ.get("PATH_INFO"),
        environ.get("QUERY_STRING"),
        user.id,
        str(get_locale()),
        session.get("csrf_token"),
    )


def _stamp(account: AccountState) -> tuple[int, int, int] | None:
    """The household's version, the global one and the minute: read before the page's data (by
    the session check, with the account, famille_core/persistence/account_check.py)."""
    if account.versions is not None:
        household, everything = account.versions
    else:
        orm_session = getattr(request_uow(), "session", None)
        if orm_session is None or account.family_id is None:
            return None  # a unit of work without SQL (an integrator's): no versions to trust
        household, everything = page_versions.read(orm_session, account.family_id)
    minute = int(get_portal().clock.now().timestamp() // 60)
    return (household, everything, minute)


def _answer(entry: Entry) -> Response:
    idle = str(idle_seconds_left()).encode()
    response = Response(entry.body.replace(IDLE_MARK.encode(), idle), status=200)
    response.headers.clear()
    response.headers.extend(entry.headers)
    return response


def _storable(response: Response) -> bool:
    return (
        response.status_code == 200
        and response.mimetype == "text/html"
        and "Set-Cookie" not in response.headers
        and not g.get(FLASHED)
    )


def cached_page(view: F) -> F:
    """Answer a family's GET of ``view`` from the page cache while the household's data is
    unchanged. Put it under the audience marks (it runs once access is granted). The view must
    only read: on a hit it is not called."""

    @functools.wraps(view)
    def wrapper(*args: Any, **kwargs: Any) -> object:
        cache = cache_of(current_app)
        slot = _slot() if cache is not None else None
        stamp = _stamp(g.famille_login) if slot is not None else None
        if cache is None or slot is None or stamp is None:
            return view(*args, **kwargs)
        entry = cache.get(slot, stamp)
        if entry is not None:
            return _answer(entry)
        setattr(g, FLASHED, False)
        setattr(g, RENDERING, True)
        try:
            response = make_response(view(*args, **kwargs))
        finally:
            setattr(g, RENDERING, False)
        if response.direct_passthrough or response.is_streamed:
            return response
        entry = Entry(
            stamp,
            response.get_data(),
            [(k, v) for k, v in response.headers.items() if k != "Content-Length"],
        )
        if _storable(response):
            cache.put(slot, entry)
            return _answer(entry)
        # not kept (an error, a flashed message…): its idle countdown still goes in
        response.set_data(entry.body.replace(IDLE_MARK.encode(), str(idle_seconds_left()).encode()))
        return response

    return cast(F, wrapper)


def _flashed(_app: Flask, **_extra: Any) -> None:
    g.famille_page_flashed = True


def init_app(app: Flask, entries: int, megabytes: int) -> None:
    """Give ``app`` its page cache (none when ``entries`` is 0). Call after the sessions' setup:
    the idle countdown's mark overrides their template value on a page to cache."""
    if entries <= 0:
        return
    app.extensions[EXTENSION] = PageCache(entries, megabytes * 1024 * 1024)
    message_flashed.connect(_flashed, app)

    @app.context_processor
    def _idle_mark() -> dict[str, Any]:
        return {"session_idle_seconds": IDLE_MARK} if g.get(RENDERING) else {}
