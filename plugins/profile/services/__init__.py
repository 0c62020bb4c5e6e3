"""Use cases of the profile plugin, one module per concern.

Services own the rules and the access checks; the web views only parse the request, call these
functions, commit and render. A change is either applied at once or stored as a
:class:`~famille_core.entities.ChangeRequest` that an agent validates, depending on
``[plugins.profile] validated_sections``.

* :mod:`.sections` — the sections of Mon compte and of a child's record, which wait for an
  agent, who may read the sensitive ones;
* :mod:`.fields` — each section's fields, parsed and checked (IBAN, dates, vaccinations);
* :mod:`.records` — loading and writing a section's record, the collectivity's extra fields,
  versions (two tabs);
* :mod:`.changes` — a family's change: applied at once or requested; applying an approved request;
* :mod:`.account` — Mon compte and Mes enfants as shown to the family or to an agent;
* :mod:`.photos` — the child's photo: checked, re-encoded, stored outside the web root;
* :mod:`.shared` — a child shared by two households;
* :mod:`.decisions` — the agents' side: search, change requests to decide;
* :mod:`.data` — what the profile gives out: its sections of Mes données, its feed events.
"""
