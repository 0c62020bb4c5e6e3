"""The billing plugin: invoices (Factures) and their payment, whatever the provider."""
