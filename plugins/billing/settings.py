"""Settings of the billing plugin: the ``[plugins.billing]`` table.

```toml
[plugins.billing]
providers = ["payfip"]            # offered on an unpaid invoice, in order: "payfip", "tipi"
                                  # (the tipi_payment plugin), "guichet" (the desk example)…
pending_expiry_minutes = 120      # a result still unknown this long after the start expires
public_url = ""                   # the portal's address as providers reach it
reconcile_schedule = "*/5 * * * *"   # when `famille worker` reconciles (crontab, Paris time)
without_account = true            # "Payer une facture sans compte", linked from the login page
without_account_limit = "10 per hour"   # tries per address and per reference
siret = ""                        # the collectivity's SIRET, printed on the childcare certificates
childcare_activities = []         # activity codes whose lines count on them; empty: all but
childcare_excluded = ["CANTINE"]  # these (meals are not childcare, by the tax rules)
childcare_age_limit = 6           # children under this age on 1 January of the year
```

Before the billing plugin, ``providers``, ``pending_expiry_minutes``, ``public_url`` and
``reconcile_schedule`` were keys of ``[plugins.tipi_payment]``: they are still read there when ``[plugins.billing]`` does
not set them (deprecated; docs/payment.md, "Configuration").
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from attrs import evolve, field, frozen, validators

from famille_core.settings import http_url

if TYPE_CHECKING:
    from famille_core.portal import Portal

NAME = "billing"
MOVED_KEYS = ("providers", "pending_expiry_minutes", "public_url", "reconcile_schedule")
"""Keys that moved from ``[plugins.tipi_payment]`` (still read there, deprecated)."""
FORMER_TABLE = "tipi_payment"


@frozen(kw_only=True)
class BillingSettings:
    """How invoices are paid."""

    providers: tuple[str, ...] = field(
        default=("payfip",), converter=tuple, validator=validators.min_len(1)
    )
    """Providers offered on an unpaid invoice, in order: a provider code that an enabled plugin
    answers in ``payment_methods`` (``payfip`` and ``tipi`` from ``tipi_payment``)."""
    pending_expiry_minutes: int = field(default=120, validator=validators.ge(15))
    """A payment still unknown this long after it started is expired "without a result" by the
    reconciliation (and still asked about for 7 days: a late "paid" is credited)."""
    public_url: str = field(default="", validator=http_url)
    """The portal's address as the providers reach it (notification and return URLs); empty:
    the ``[portal] base_url``."""
    reconcile_schedule: str = field(
        default="*/5 * * * *", validator=validators.matches_re(r"\S+( \S+){4}")
    )
    """When ``famille worker`` reconciles pending payments (crontab: minute hour day month
    weekday): every five minutes by default (docs/jobs.md)."""
    without_account: bool = True
    """The public page "Payer une facture sans compte" (docs/payment.md)."""
    without_account_limit: str = field(
        default="10 per hour", validator=validators.matches_re(r"\d+ per \d* ?\w+")
    )
    """Tries of that page counted per client address and per typed reference (the shared
    attempt limiter, docs/security.md point 3)."""
    siret: str = field(default="", validator=validators.matches_re(r"(\d{14})?"))
    """The collectivity's SIRET (14 digits), printed on the childcare certificates."""
    childcare_activities: tuple[str, ...] = field(default=(), converter=tuple)
    """Codes of the activities whose paid lines count on the attestations de frais de garde;
    empty: every activity but :attr:`childcare_excluded`."""
    childcare_excluded: tuple[str, ...] = field(default=("CANTINE",), converter=tuple)
    """Activities that never count when :attr:`childcare_activities` is empty: the canteen (meals
    are not childcare costs under the tax rules)."""
    childcare_age_limit: int = field(
        default=6, validator=validators.and_(validators.ge(1), validators.le(18))
    )
    """Children count when under this age on 1 January of the year (the tax rule: 6)."""


def settings_of(portal: Portal) -> BillingSettings:
    """The plugin's validated settings; a key :data:`MOVED_KEYS` names that ``[plugins.billing]``
    leaves out is read from ``[plugins.tipi_payment]``, where it used to be."""
    config: BillingSettings = portal.config_for(NAME)
    given: dict[str, Any] = portal.settings.plugins.get(NAME, {})
    former: dict[str, Any] = portal.settings.plugins.get(FORMER_TABLE, {})
    moved = {key: former[key] for key in MOVED_KEYS if key in former and key not in given}
    return evolve(config, **moved) if moved else config
