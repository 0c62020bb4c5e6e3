"""The PayFiP / TIPI provider (payfip.md):

* :mod:`.providers` — the two protocols as a provider: the methods offered, the fields checked
  before a transaction is stored, the redirect, the verification of an answer;
* :mod:`.soap` — the SOAP client of PayFiP's web service;
* :mod:`.formats` — the field formats (``refdet``, ``exer``, ``montant``, ``objet``…);
* :mod:`.simulator` — a local PayFiP for the demo and the tests: a development tool, imported
  only by the ``famille payfip-simulator`` command and the tests.
"""
