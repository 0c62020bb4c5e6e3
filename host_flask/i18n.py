"""Translations (Flask-Babel, French by default) and French display filters.

Message ids are the French texts themselves; another language adds a catalogue in
``host_flask/translations``.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from flask import Flask
from flask_babel import Babel

from famille_core.clock import PARIS
from famille_core.money import format_euros

WEEKDAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = (
    "janvier",
    "février",
    "mars",
    "avril",
    "mai",
    "juin",
    "juillet",
    "août",
    "septembre",
    "octobre",
    "novembre",
    "décembre",
)


def french_date(value: date | datetime | None, style: str = "short") -> str:
    """``12/05/2026`` (short), ``mardi 12 mai 2026`` (long); instants shown in Paris time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS)
    if style == "long":
        day = value.date() if isinstance(value, datetime) else value
        return f"{WEEKDAYS[day.weekday()]} {day.day} {MONTHS[day.month - 1]} {day.year}"
    return value.strftime("%d/%m/%Y")


def french_datetime(value: datetime | None) -> str:
    """``02/02/2010 15:50:14`` in Paris time."""
    if value is None:
        return ""
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")


def human_size(size: int) -> str:
    """``512 o``, ``2 Ko``, ``1,5 Mo``."""
    if size < 1024:
        return f"{size} o"
    if size < 1024 * 1024:
        return f"{round(size / 1024)} Ko"
    return f"{size / (1024 * 1024):.1f} Mo".replace(".", ",")


def euros(value: Decimal | None) -> str:
    """``1 234,50 €``."""
    return "" if value is None else format_euros(value)


def init_app(app: Flask) -> None:
    Babel(app, default_locale="fr", default_timezone="Europe/Paris")
    app.jinja_env.filters.update(
        french_date=french_date,
        french_datetime=french_datetime,
        human_size=human_size,
        euros=euros,
    )
