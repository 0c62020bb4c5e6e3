"""PDF checks of the inbox's attachments: :mod:`famille_core.pdf_checks`."""

from famille_core.pdf_checks import ActivePdf, EncryptedPdf, UnreadablePdf, check_pdf

__all__ = ["ActivePdf", "EncryptedPdf", "UnreadablePdf", "check_pdf"]
