"""Factures and online payment through PayFiP / TIPI."""
