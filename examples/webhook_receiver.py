"""A small receiver of Portail Famille's webhooks, for an ERP to start from (docs/api.md,
"Webhooks"). It checks each delivery's signature, answers 401 to a forged or replayed one,
applies each event once (the portal sends an event again until it gets a 2xx), and answers 204.

    python examples/webhook_receiver.py whsec_… 8765

It needs nothing but Python's standard library.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import sys
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

SIGNATURE_HEADER = "X-Famille-Signature"
TOLERANCE_SECONDS = 300
"""A delivery signed longer ago than this is refused (a replayed request)."""


def verify(secret: str, header: str, body: bytes, *, now: float | None = None) -> bool:
    """True when ``header`` (``t=<unix time>,v1=<hex>``) is the portal's signature of ``body``:
    the HMAC-SHA256, keyed with the webhook's secret, of ``<unix time>.`` then the body's bytes,
    made less than :data:`TOLERANCE_SECONDS` ago."""
    fields = dict(part.split("=", 1) for part in header.split(",") if "=" in part)
    try:
        timestamp = int(fields["t"])
    except (KeyError, ValueError):
        return False
    if abs((time.time() if now is None else now) - timestamp) > TOLERANCE_SECONDS:
        return False
    expected = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, fields.get("v1", ""))


class Receiver:
    """What the receiver knows: the webhook's secret, the events applied (by id), and what to do
    with a new one. ``delay`` makes it slow (to see that a slow receiver slows no one else)."""

    def __init__(self, secret: str, on_event: Callable[[dict[str, Any]], None] = print, delay: float = 0.0):
        self.secret = secret
        self.on_event = on_event
        self.delay = delay
        self.applied: list[int] = []
        self.refused = 0
        self._lock = threading.Lock()

    def receive(self, header: str, body: bytes) -> int:
        """Handle one delivery; returns the HTTP status to answer."""
        time.sleep(self.delay)
        if not verify(self.secret, header, body):
            self.refused += 1
            return 401
        event = json.loads(body)
        with self._lock:
            if event["id"] in self.applied:
                return 204  # already applied: acknowledge again, change nothing
            self.on_event(event)
            self.applied.append(event["id"])
        return 204


def make_server(receiver: Receiver, port: int = 0, host: str = "127.0.0.1") -> ThreadingHTTPServer:
    """An HTTP server handing every POST to ``receiver`` (``port`` 0: a free one)."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            self.send_response(receiver.receive(self.headers.get(SIGNATURE_HEADER, ""), body))
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    return ThreadingHTTPServer((host, port), Handler)


def main() -> None:
    """``python examples/webhook_receiver.py SECRET [PORT]``: print each event received."""
    secret = sys.argv[1]
    port = int(sys.argv[2]) if len(sys.argv) > 2 else 8765
    server = make_server(Receiver(secret, on_event=lambda event: print(json.dumps(event, ensure_ascii=False))), port)
    print(f"Reçoit les webhooks sur http://127.0.0.1:{port}/", file=sys.stderr)
    server.serve_forever()


if __name__ == "__main__":
    main()
