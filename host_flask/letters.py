"""Invitation letters: one printable page per household for guardians without an e-mail address,
with each guardian's activation code and the portal's address (a tagged PDF made by WeasyPrint,
as the invoices are).

Rendered without Flask, so that ``famille invite --courriers`` writes the same letters as the
agents' page "Comptes".
"""

from __future__ import annotations

from itertools import groupby
from pathlib import Path

from jinja2 import Environment, FileSystemLoader, select_autoescape

from famille_core.clock import PARIS
from famille_core.entities import Family, Guardian
from famille_core.portal import Portal
from famille_core.services.invitations import Invitation
from famille_core.uow import In, UnitOfWork

TEMPLATES = Path(__file__).parent / "templates" / "accounts"

LETTER_CSS = """
@page { size: A4; margin: 2cm; }
body { font-family: sans-serif; font-size: 11pt; line-height: 1.45; color: #111; }
.letter { page-break-after: always; }
.letter:last-child { page-break-after: auto; }
.code { font-family: monospace; font-size: 16pt; letter-spacing: 0.08em; }
.address { margin: 0 0 2.5cm 9cm; }
"""


def letters_html(portal: Portal, uow: UnitOfWork, invitations: list[Invitation]) -> str:
    """The letters as one HTML document (one ``section`` per household), labels escaped."""
    family_ids = sorted({i.user.family_id for i in invitations if i.user.family_id is not None})
    families = {f.id: f for f in uow.find(Family, id=In(family_ids))}
    guardians = {g.id: g for g in uow.find(Guardian, family_id=In(family_ids))}
    ordered = sorted(invitations, key=lambda i: (i.user.family_id or 0, i.user.id or 0))
    households = [
        (families.get(family_id), [(i, guardians.get(i.user.guardian_id)) for i in group])
        for family_id, group in groupby(ordered, key=lambda i: i.user.family_id)
    ]
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True)
    )
    expires = portal.clock.now().astimezone(PARIS)
    return environment.get_template("letters.html").render(
        households=households,
        collectivity=portal.settings.collectivity,
        portal_url=portal.settings.portal.base_url.rstrip("/"),
        activation_url=f"{portal.settings.portal.base_url.rstrip('/')}/activer",
        days=portal.settings.portal.activation_days,
        today=expires.strftime("%d/%m/%Y"),
    )


def letters_pdf(portal: Portal, uow: UnitOfWork, invitations: list[Invitation]) -> bytes:
    """The letters as a tagged PDF (for screen readers too)."""
    from weasyprint import CSS, HTML

    html = letters_html(portal, uow, invitations)
    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
        stylesheets=[CSS(string=LETTER_CSS)], pdf_tags=True
    )
    return pdf
