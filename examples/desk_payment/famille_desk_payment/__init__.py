"""Example payment provider: the town-hall desk (« Payer au guichet de la mairie »).

It proves that a collectivity bills through the portal without online payment, and swaps its
payment provider by configuration alone — no ``tipi_payment`` needed::

    [portal]
    plugins = ["profile", "inbox", "calendar", "billing", "desk_payment"]

    [plugins.billing]
    providers = ["guichet"]          # instead of the default ["payfip"]

    [plugins.desk_payment]
    secret = "a long random secret shared with the cash register"

The provider implements three payment hooks and nothing else (:mod:`.plugin`): the core stores
the pending transaction and credits the invoice exactly once, the ``billing`` plugin shows the
invoice and routes the answers.

1. ``payment_link``: the payer is sent back to the portal's return page (the payment is
   pending) and the payment joins the desk's queue (``instance/guichet/<id>.json``: reference,
   amount and the notification URL).
2. At the desk, the cash register takes the money and posts to the notification URL
   ``montant`` (cents), ``recu`` (its receipt number) and ``signature`` =
   HMAC-SHA256(secret, ``"<transaction id>:<montant>:<recu>"``), hex (:func:`.services.signature`).
3. ``payment_response`` verifies the signature and the amount before saying "paid". The
   notification URL carries no secret: the signature is the proof.

It follows the plugin skeleton (docs/plugins.md): ``plugin.py`` (the hooks), ``settings.py``
(the secret) and ``services.py`` (the queue and the signature); no page, command or demo data.
"""
