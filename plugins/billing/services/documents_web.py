"""``render_invoice``: an invoice as an HTML document or a tagged PDF (WeasyPrint).

The PDF is made from the same template as the web page's invoice, so both say the same thing
(accessibility.md: "Invoices in PDF are tagged; the HTML version is equivalent"). Jinja2 and
WeasyPrint come with the web extra: this is a web module (its name ends in ``_web``), which
``plugin.py`` imports inside ``render_invoice``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from famille_core.entities import Invoice
from famille_core.hooks.results import RenderedDocument
from famille_core.portal import Portal
from famille_core.uow import UnitOfWork
from famille_plugins.billing.services.certificates import ChildcareCertificate, document_context
from famille_plugins.billing.services.invoices import invoice_family, invoice_lines
from famille_plugins.billing.settings import settings_of

TEMPLATES = Path(__file__).parents[1] / "templates"
DOCUMENT = "billing/document.html"
CERTIFICATE = "billing/certificate.html"
PDF_CSS = """
@page { size: A4; margin: 18mm 16mm; }
body { font-family: "DejaVu Sans", sans-serif; font-size: 10pt; color: #1b1b1b; }
h1 { font-size: 16pt; margin: 0 0 4mm; }
h2 { font-size: 12pt; margin: 6mm 0 2mm; }
dl.invoice-facts { display: grid; grid-template-columns: auto 1fr; gap: 1mm 4mm; margin: 0; }
dl.invoice-facts dt { font-weight: bold; }
dl.invoice-facts dd { margin: 0; }
table { border-collapse: collapse; width: 100%; margin-top: 2mm; }
th, td { border-bottom: 0.3pt solid #6b6b6b; padding: 1.5mm; text-align: left; }
td.amount, th.amount { text-align: right; }
"""


def invoice_context(
    portal: Portal, invoice: Invoice, uow: UnitOfWork | None = None
) -> dict[str, Any]:
    """What the invoice templates show (read in ``uow``, else in a unit of work of its own)."""
    if uow is None:
        with portal.unit_of_work() as own:
            return invoice_context(portal, invoice, own)
    lines = invoice_lines(uow, invoice)
    family = invoice_family(uow, invoice)
    return {
        "invoice": invoice,
        "lines": lines,
        "family": family,
        "regie": portal.settings.regie(invoice.regie_code),
        "collectivity": portal.settings.collectivity,
        "without_account": settings_of(portal).without_account,
    }


def _standalone_html(context: dict[str, Any], template: str = DOCUMENT) -> str:
    """Outside a Flask application (an ERP rendering invoices): a plain Jinja environment."""
    from jinja2 import Environment, FileSystemLoader, select_autoescape

    from famille_core.money import format_euros

    env = Environment(
        loader=FileSystemLoader(str(TEMPLATES)),
        autoescape=select_autoescape(default=True),
        extensions=["jinja2.ext.i18n"],
    )
    env.install_null_translations(newstyle=True)  # type: ignore[attr-defined]
    env.filters["euros"] = lambda value: "" if value is None else format_euros(value)
    env.filters["french_date"] = lambda value, style="short": (
        value.strftime("%d/%m/%Y") if value else ""
    )
    return env.get_template(template).render(**context)


def html_document(template: str, context: dict[str, Any]) -> str:
    """A complete HTML document from one of the plugin's templates (collectivity themes apply
    inside the web app, a job's included; outside it — a command, an ERP — a plain Jinja
    environment)."""
    try:
        from flask import has_app_context, render_template
    except ImportError:  # pragma: no cover - an ERP without Flask
        return _standalone_html(context, template)
    if has_app_context():
        return render_template(template, **context)
    return _standalone_html(context, template)


def tagged_pdf(html: str) -> bytes:
    """``html`` as a tagged PDF (for screen readers), with the documents' print style."""
    from weasyprint import CSS, HTML

    pdf: bytes = HTML(string=html, base_url=str(TEMPLATES)).write_pdf(
        stylesheets=[CSS(string=PDF_CSS)], pdf_tags=True
    )
    return pdf


def document_html(portal: Portal, invoice: Invoice) -> str:
    """The invoice as a complete HTML document (collectivity themes apply inside the web app)."""
    return html_document(DOCUMENT, invoice_context(portal, invoice))


def render(portal: Portal, invoice: Invoice, format: str) -> RenderedDocument | None:
    """``html`` or ``pdf`` (tagged, for screen readers); ``None`` for another format."""
    html = document_html(portal, invoice) if format in ("html", "pdf") else None
    if html is None:
        return None
    filename = f"facture-{invoice.number}"
    if format == "html":
        return RenderedDocument(
            content=html.encode(),
            media_type="text/html; charset=utf-8",
            filename=f"{filename}.html",
        )
    return RenderedDocument(
        content=tagged_pdf(html), media_type="application/pdf", filename=f"{filename}.pdf"
    )


def certificate_pdf(portal: Portal, certificate: ChildcareCertificate) -> RenderedDocument:
    """An attestation de frais de garde as a tagged PDF."""
    from famille_core.clock import today_in_paris

    context = document_context(portal, certificate, today_in_paris(portal.clock))
    return RenderedDocument(
        content=tagged_pdf(html_document(CERTIFICATE, context)),
        media_type="application/pdf",
        filename=certificate.filename,
    )
