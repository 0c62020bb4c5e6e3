"""The one converter at every edge: exact money, strict dates, no extra keys, no invisible
characters — with French messages naming the field."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import pytest
from attrs import frozen

from famille_core import ValidationFailed, make_converter, structure


@frozen
class Payload:
    title: str
    amount: Decimal
    day: date
    at: datetime | None = None


def _messages(data: dict[str, object]) -> dict[str | None, list[str]]:
    with pytest.raises(ValidationFailed) as caught:
        structure(make_converter(), data, Payload)
    return caught.value.by_field()


def test_json_float_becomes_the_exact_decimal() -> None:
    payload = structure(
        make_converter(), {"title": "Cantine", "amount": 70.55, "day": "2026-11-16"}, Payload
    )
    assert payload.amount == Decimal("70.55")
    assert payload.day == date(2026, 11, 16)


def test_errors_name_each_field_in_french() -> None:
    errors = _messages({"title": "x", "amount": "douze", "day": "16/11/2026", "family_id": 3})
    assert errors["amount"] == ["Nombre invalide."]
    assert errors["day"] == ["Date invalide (format attendu : AAAA-MM-JJ)."]
    assert any("family_id" in message for message in errors[None])


def test_naive_datetime_is_refused() -> None:
    errors = _messages(
        {"title": "x", "amount": "1", "day": "2026-11-16", "at": "2026-11-16T09:00:00"}
    )
    assert "at" in errors


@pytest.mark.parametrize("text", ["avant\x00après", "bip\x07", "\x1b[31mrouge"])
def test_invisible_control_characters_are_refused(text: str) -> None:
    errors = _messages({"title": text, "amount": "1", "day": "2026-11-16"})
    assert errors["title"] == ["Ce texte contient un caractère invisible non autorisé."]


def test_tabs_and_line_breaks_are_kept() -> None:
    text = "Bonjour,\r\n\tmerci.\n"
    payload = structure(
        make_converter(), {"title": text, "amount": "1", "day": "2026-11-16"}, Payload
    )
    assert payload.title == text
