"""Translations (Flask-Babel, French by default) and French display filters.

Message ids are the French texts themselves. Another language is a gettext catalogue in
``host_flask/translations``, in a plugin package's ``translations`` folder, or in the instance
folder's ``translations`` (a collectivity's own, which wins), listed in ``[portal] languages``;
see docs/translation.md.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, has_request_context, request
from flask_babel import Babel, get_locale, get_translations

from famille_core import french
from famille_core.clock import PARIS
from famille_core.money import format_euros


def french_date(value: date | datetime | None, style: str = "short") -> str:
    """``12/05/2026`` (short), ``mardi 12 mai 2026`` (long); instants shown in Paris time."""
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone(PARIS)
    if style == "long":
        day = value.date() if isinstance(value, datetime) else value
        return french.long_day(day)
    return value.strftime("%d/%m/%Y")


def french_datetime(value: datetime | None) -> str:
    """``02/02/2010 15:50:14`` in Paris time."""
    if value is None:
        return ""
    return value.astimezone(PARIS).strftime("%d/%m/%Y %H:%M:%S")


def _locale() -> str:
    """The page's language, French outside a request."""
    return str(get_locale() or "fr") if has_request_context() else "fr"


def human_size(size: int) -> str:
    """``1 octet``, ``65 octets``, ``1,2 Ko``, ``3,5 Mo`` (the words and the decimal comma of
    the page's language: French without Babel's locale data, others through Babel)."""
    locale = _locale()
    value, unit = (size / 1024, "Ko") if size < 1024 * 1024 else (size / (1024 * 1024), "Mo")
    if locale == "fr":
        if size < 1024:
            return french.bytes_count(size)
        number = french.number(value)
    else:
        from babel.numbers import format_decimal
        from babel.units import format_unit

        if size < 1024:
            return format_unit(size, "digital-byte", length="long", locale=locale)
        number = format_decimal(value, "#,##0.#", locale=locale)
    return f"{number}\N{NO-BREAK SPACE}{unit}"


def euros(value: Decimal | None) -> str:
    """``1 234,50 €``."""
    return "" if value is None else format_euros(value)


def translation_directories(instance_path: Path, plugin_modules: list[object]) -> list[str]:
    """Catalogue folders, the collectivity's own first (the first catalogue wins)."""
    folders = [Path(instance_path) / "translations"]
    for module in plugin_modules:
        module_file = getattr(module, "__file__", None)
        if module_file:
            folders.append(Path(module_file).parent / "translations")
    folders.append(Path(__file__).parent / "translations")
    return [str(folder) for folder in folders if folder.is_dir()]


def _translations() -> Any:
    """The current request's catalogue (Flask-Babel's), kept on ``g`` for the request."""
    if not has_request_context():
        return get_translations()
    found = g.get("famille_translations")
    if found is None:
        found = g.famille_translations = get_translations()
    return found


def _select_language() -> str:
    languages: tuple[str, ...] = current_app.config["FAMILLE_LANGUAGES"]
    if len(languages) == 1:
        return languages[0]
    return request.accept_languages.best_match(languages) or languages[0]


def init_app(
    app: Flask, languages: tuple[str, ...], instance_path: Path, plugin_modules: list[object]
) -> None:
    """Flask-Babel with the configured languages and every catalogue folder found."""
    app.config["FAMILLE_LANGUAGES"] = languages
    directories = translation_directories(instance_path, plugin_modules)
    if directories:
        app.config["BABEL_TRANSLATION_DIRECTORIES"] = ";".join(directories)
    Babel(
        app,
        default_locale=languages[0],
        default_timezone="Europe/Paris",
        locale_selector=_select_language,
    )
    # Templates translate through the request's catalogue, looked up once per request rather
    # than at each of a page's few dozen ``_()`` (docs/deployment.md, "Fast pages"); ``_`` is
    # the same callable as ``gettext``, without Jinja's alias in between. (The portal never
    # switches language within a request: no ``force_locale``.)
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda text: _translations().ugettext(text),
        ngettext=lambda singular, plural, n: _translations().ungettext(singular, plural, n),
        pgettext=lambda context, text: _translations().upgettext(context, text),
        npgettext=lambda context, singular, plural, n: _translations().unpgettext(
            context, singular, plural, n
        ),
        newstyle=True,
    )
    app.jinja_env.globals["_"] = app.jinja_env.globals["gettext"]
    app.jinja_env.globals["current_language"] = lambda: str(get_locale() or languages[0])
    app.jinja_env.filters.update(
        french_date=french_date,
        french_datetime=french_datetime,
        human_size=human_size,
        euros=euros,
    )
