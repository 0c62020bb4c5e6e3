"""PayFiP field formats (payfip.md, "Field formats")."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from famille_core.errors import ValidationFailed
from famille_core.money import from_cents, to_cents
from famille_plugins.tipi_payment.services import formats


def test_refdet_from_guide_reference_drops_separators() -> None:
    assert formats.refdet_from_reference("2018-XX-00-XXXX") == "2018XX00XXXX"


@pytest.mark.parametrize("reference", ["2018", "A-B-C", "1" * 31])
def test_refdet_outside_6_to_30_characters_is_refused(reference: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        formats.refdet_from_reference(reference)
    assert caught.value.issues[0].code == "refdet_format"


def test_objet_strips_accents_turns_apostrophes_and_dashes_into_spaces_and_drops_symbols() -> None:
    label = "Cantine d'octobre — Léa & Zoé (50 %) : périscolaire-soir €"
    assert formats.objet_from_label(label) == "Cantine d octobre Lea Zoe 50 periscolaire soir"


def test_objet_is_ascii_letters_digits_spaces_at_most_99_characters() -> None:
    objet = formats.objet_from_label("Œuvre « spéciale » ñ ç ’quote’ " * 10)
    assert len(objet) <= 99
    assert all(ch.isascii() and (ch.isalnum() or ch == " ") for ch in objet)
    assert "  " not in objet and objet == objet.strip()


@given(st.text(max_size=300))
def test_objet_of_any_label_is_valid(label: str) -> None:
    objet = formats.objet_from_label(label)
    assert len(objet) <= 99
    assert all(ch.isascii() and (ch.isalnum() or ch == " ") for ch in objet)


@pytest.mark.parametrize(
    ("amount", "montant"),
    [(Decimal("0.05"), "5"), (Decimal("123.12"), "12312"), (Decimal("9999.99"), "999999")],
)
def test_montant_is_integer_cents_without_separator(amount: Decimal, montant: str) -> None:
    assert formats.montant_from_amount(amount) == montant
    assert formats.amount_from_montant(montant) == amount


@given(st.integers(min_value=1, max_value=999_999))
def test_cents_round_trip_exactly(cents: int) -> None:
    amount = from_cents(cents)
    assert to_cents(amount) == cents
    assert formats.amount_from_montant(formats.montant_from_amount(amount)) == amount


@given(st.decimals(min_value=Decimal("0.01"), max_value=Decimal("9999.99"), places=2))
def test_decimal_amounts_round_trip_through_montant(amount: Decimal) -> None:
    assert formats.amount_from_montant(formats.montant_from_amount(amount)) == amount


@pytest.mark.parametrize("amount", [Decimal("10000.00"), Decimal("12345.67")])
def test_amounts_of_10000_euros_or_more_are_refused_with_french_message(amount: Decimal) -> None:
    with pytest.raises(ValidationFailed) as caught:
        formats.montant_from_amount(amount)
    assert caught.value.issues[0].message.startswith(
        "Le paiement en ligne est limité aux montants inférieurs à 10 000 €"
    )


def test_sub_cent_and_non_positive_amounts_are_refused() -> None:
    for amount in (Decimal("1.005"), Decimal("0"), Decimal("-3.00")):
        with pytest.raises(ValidationFailed):
            formats.montant_from_amount(amount)


def test_montant_answer_must_be_plain_digits() -> None:
    for bad in ("12.5", "-5", "1e3", "٣"):
        with pytest.raises(ValueError):
            formats.amount_from_montant(bad)


def test_numcli_keeps_leading_zeros_and_needs_six_digits() -> None:
    assert formats.check_numcli("021289") == "021289"
    with pytest.raises(ValidationFailed):
        formats.check_numcli("21289")


def test_exer_is_four_digits_and_mel_is_6_to_80_characters() -> None:
    assert formats.exer_from_year(2018) == "2018"
    assert formats.check_mel(" parent@example.org ") == "parent@example.org"
    for bad in ("a@b.c", "x" * 75 + "@example.org", "pas-une-adresse"):
        with pytest.raises(ValidationFailed):
            formats.check_mel(bad)
