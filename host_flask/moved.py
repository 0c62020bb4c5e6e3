"""Pages that moved: every URL under an old prefix answers a permanent redirect to the same
path under the new prefix.

A 308 (not a 301) keeps the method and the body, so a form posted from a page drawn before the
move (with its CSRF token) still reaches its view. A plugin registers the blueprint from
:func:`moved_pages` next to its own while old bookmarks and e-mailed links are still around.
"""

from __future__ import annotations

from collections.abc import Callable
from urllib.parse import quote

from flask import Blueprint, redirect, request
from flask.typing import ResponseReturnValue

from host_flask.access import agents_only

Audience = Callable[[Callable[..., ResponseReturnValue]], Callable[..., ResponseReturnValue]]


def moved_pages(name: str, old_prefix: str, new_prefix: str, audience: Audience = agents_only) -> Blueprint:
    """A blueprint ``name`` answering ``old_prefix/…`` with a 308 to ``new_prefix/…``.

    The query string is kept. The redirect carries the audience mark of the pages that moved
    (agents' pages by default), so a visitor outside that audience gets the same 404 from the
    old address as from the new one.
    """
    old_prefix, new_prefix = old_prefix.rstrip("/"), new_prefix.rstrip("/")
    bp = Blueprint(name, __name__, url_prefix=old_prefix)

    def answer(rest: str) -> ResponseReturnValue:
        target = f"{new_prefix}/{quote(rest, safe='/')}"
        if request.query_string:
            target += "?" + request.query_string.decode("latin-1")
        return redirect(target, 308)

    @bp.route("/", methods=["GET", "POST"])
    @audience
    def moved_root() -> ResponseReturnValue:
        return answer("")

    @bp.route("/<path:rest>", methods=["GET", "POST"])
    @audience
    def moved(rest: str) -> ResponseReturnValue:
        return answer(rest)

    return bp
