"""The cash register of ``examples/desk_payment``, as the tests play it: its signed answer."""

from __future__ import annotations

import hmac


def signature(secret: str, transaction_id: int, montant: str, recu: str) -> str:
    """What the cash register signs: hex HMAC-SHA256 of ``"<transaction id>:<montant>:<recu>"``
    (examples/desk_payment/README.md)."""
    message = f"{transaction_id}:{montant}:{recu}".encode()
    return hmac.new(secret.encode(), message, "sha256").hexdigest()
