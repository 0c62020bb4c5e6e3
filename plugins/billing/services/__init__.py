"""The billing plugin's use cases, over the core's money rules
(:mod:`famille_core.services.payments`):

* :mod:`.invoices` — a household's invoices, one invoice, the ways it may be paid;
* :mod:`.payments` — starting a payment, « Vérifier maintenant », the reconciliation, with the
  plugin's settings;
* :mod:`.agents` — the agents' side: overpayments to refund, payments to check;
* :mod:`.data` — the plugin's data surfaces: "Mes données" sections, ``famille export
  payments``, the domain feed's payment events;
* :mod:`.documents_web` — an invoice as HTML or a tagged PDF (Jinja2 and WeasyPrint: the web
  extra).
"""
