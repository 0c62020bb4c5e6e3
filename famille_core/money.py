"""Exact money: ``Decimal`` euros in the domain, integer cents at the edges."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
NBSP = "\u00a0"
NARROW_NBSP = "\u202f"


def to_money(value: Decimal | int | str) -> Decimal:
    """Normalise an amount to two decimals; refuses floats (they are never exact).

    >>> to_money("4.15") * 17
    Decimal('70.5500')
    """
    if isinstance(value, float):
        raise TypeError("money is never a float")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise ValueError(f"not an amount: {value!r}") from exc
    if not amount.is_finite():
        raise ValueError(f"not an amount: {value!r}")
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def to_cents(amount: Decimal) -> int:
    """Euros to integer cents, exactly; refuses sub-cent amounts."""
    cents = amount * 100
    if cents != cents.to_integral_value():
        raise ValueError(f"{amount} has more than two decimals")
    return int(cents)


def from_cents(cents: int) -> Decimal:
    """Integer cents to euros."""
    return (Decimal(cents) / 100).quantize(CENT)


def format_euros(amount: Decimal) -> str:
    """French display: ``1 234,50 €`` (narrow no-break space as thousands separator)."""
    quantized = to_money(amount)
    sign = "-" if quantized < 0 else ""
    whole, _, frac = f"{abs(quantized):.2f}".partition(".")
    groups: list[str] = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return sign + NARROW_NBSP.join(groups) + "," + frac + NBSP + "€"
