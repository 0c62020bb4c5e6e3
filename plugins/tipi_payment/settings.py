"""Settings of the tipi_payment plugin: the ``[plugins.tipi_payment]`` table.

```toml
[plugins.tipi_payment]
mode = "test"                     # "test", "activation" or "production"
base_url = "https://www.payfip.gouv.fr"   # the local simulator: "http://127.0.0.1:5050"
```

Which providers are offered (``payfip``, ``tipi``…), how long a result may stay unknown and when
the worker reconciles are the billing plugin's settings (``[plugins.billing]``); their former
keys here are still accepted and read by billing when its table leaves them out (deprecated).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from attrs import field, frozen, validators

from famille_core.settings import http_url

if TYPE_CHECKING:
    from famille_core.portal import Portal

PLUGIN_NAME = "tipi_payment"
PAYFIP = "payfip"
"""The PayFiP web-service flow (recommended: every answer is verified with PayFiP)."""
TIPI = "tipi"
"""The legacy TIPI ``paiement.web`` redirect (unsigned answer, checked field by field)."""

MODES = ("test", "activation", "production")
WEB_SERVICE_SAISIE = {"test": "T", "activation": "X", "production": "W"}


@frozen(kw_only=True)
class TipiSettings:
    """How PayFiP is reached."""

    providers: tuple[str, ...] = field(default=(PAYFIP,), validator=validators.min_len(1))
    """Deprecated: ``[plugins.billing] providers`` (read from here when billing's table leaves
    it out)."""
    mode: str = field(default="test", validator=validators.in_(MODES))
    """``saisie`` sent to PayFiP: test (``T``), activation (``X``) or production."""
    base_url: str = field(
        default="https://www.payfip.gouv.fr", validator=[validators.min_len(1), http_url]
    )
    """PayFiP's address; only this differs between the real service and the simulator."""
    timeout_seconds: float = field(default=10.0, validator=validators.gt(0))
    """Time allowed to each SOAP call; a timeout credits nothing and leaves the payment pending."""
    pending_expiry_minutes: int = field(default=120, validator=validators.ge(15))
    """Deprecated: ``[plugins.billing] pending_expiry_minutes`` (read from here when billing's
    table leaves it out)."""
    reconcile_schedule: str = field(
        default="*/5 * * * *", validator=validators.matches_re(r"\S+( \S+){4}")
    )
    """Deprecated: ``[plugins.billing] reconcile_schedule`` (read from here when billing's
    table leaves it out)."""
    legacy_production_saisie: str = field(default="A", validator=validators.in_(["A", "M", "W"]))
    """The legacy redirect's production ``saisie`` letter (``A`` in most implementations)."""
    public_url: str = field(default="", validator=http_url)
    """Deprecated: ``[plugins.billing] public_url`` (read from here when billing's table leaves
    it out)."""

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


def settings_of(portal: Portal) -> TipiSettings:
    """The plugin's validated settings."""
    config: TipiSettings = portal.config_for(PLUGIN_NAME)
    return config
