"""Settings of the tipi_payment plugin: the ``[plugins.tipi_payment]`` table.

```toml
[plugins.tipi_payment]
providers = ["payfip"]            # "payfip" (web service, default), "tipi" (legacy redirect),
                                  # or another plugin's provider, e.g. "guichet"
mode = "test"                     # "test", "activation" or "production"
base_url = "https://www.payfip.gouv.fr"   # the local simulator: "http://127.0.0.1:5050"
```
"""

from __future__ import annotations

from urllib.parse import urlsplit

from attrs import Attribute, field, frozen, validators

PLUGIN_NAME = "tipi_payment"
PAYFIP = "payfip"
"""The PayFiP web-service flow (recommended: every answer is verified with PayFiP)."""
TIPI = "tipi"
"""The legacy TIPI ``paiement.web`` redirect (unsigned answer, checked field by field)."""

MODES = ("test", "activation", "production")
WEB_SERVICE_SAISIE = {"test": "T", "activation": "X", "production": "W"}


def _http_url(_inst: object, attribute: Attribute[str], value: str) -> None:
    parts = urlsplit(value)
    if value and (parts.scheme not in ("http", "https") or not parts.netloc):
        raise ValueError(f"{attribute.name}: an absolute http(s) URL is expected")


def _providers(
    _inst: object, attribute: Attribute[tuple[str, ...]], value: tuple[str, ...]
) -> None:
    if not value:
        raise ValueError(f"{attribute.name}: at least one payment provider is expected")


@frozen(kw_only=True)
class TipiSettings:
    """How invoices are paid online."""

    providers: tuple[str, ...] = field(default=(PAYFIP,), validator=_providers)
    """Providers offered on an unpaid invoice, in order: ``payfip``, ``tipi`` or a provider
    code that another enabled plugin answers in ``payment_methods``."""
    mode: str = field(default="test", validator=validators.in_(MODES))
    """``saisie`` sent to PayFiP: test (``T``), activation (``X``) or production."""
    base_url: str = field(
        default="https://www.payfip.gouv.fr", validator=[validators.min_len(1), _http_url]
    )
    """PayFiP's address; only this differs between the real service and the simulator."""
    timeout_seconds: float = field(default=10.0, validator=validators.gt(0))
    """Time allowed to each SOAP call; a timeout credits nothing and leaves the payment pending."""
    pending_expiry_minutes: int = field(default=120, validator=validators.ge(15))
    """A payment still unknown (P5) this long after it started is expired by
    ``famille reconcile-payments``."""
    reconcile_schedule: str = field(
        default="*/5 * * * *", validator=validators.matches_re(r"\S+( \S+){4}")
    )
    """When ``famille worker`` reconciles pending payments (crontab: minute hour day month
    weekday): every five minutes by default (docs/jobs.md)."""
    legacy_production_saisie: str = field(default="A", validator=validators.in_(["A", "M", "W"]))
    """The legacy redirect's production ``saisie`` letter (``A`` in most implementations)."""
    public_url: str = field(default="", validator=_http_url)
    """The portal's address as DGFiP reaches it (notification and return URLs); empty: the
    ``[portal] base_url``."""

    @property
    def soap_url(self) -> str:
        """The SOAP endpoint (``creerPaiementSecurise``, ``recupererDetailPaiementSecurise``)."""
        return self.base_url.rstrip("/") + "/tpa/services/securite"

    @property
    def payment_page_url(self) -> str:
        """Where the payer's browser goes with ``?idop=``."""
        return self.base_url.rstrip("/") + "/tpa/paiementws.web"

    @property
    def legacy_url(self) -> str:
        """The legacy TIPI redirect."""
        return self.base_url.rstrip("/") + "/tpa/paiement.web"

    @property
    def origin(self) -> str:
        """Scheme and host of PayFiP (allowed in the CSP ``form-action``)."""
        parts = urlsplit(self.base_url)
        return f"{parts.scheme}://{parts.netloc}"

    def saisie(self, protocol: str) -> str:
        """The ``saisie`` letter this mode sends, and expects back, for ``protocol``."""
        if protocol == TIPI and self.mode == "production":
            return self.legacy_production_saisie
        return WEB_SERVICE_SAISIE[self.mode]
