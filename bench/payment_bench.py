"""Payment throughput with the in-process PayFiP simulator (no network): how many payments per
second the portal starts, verifies and credits, how fast duplicate notifications are absorbed,
and how long ``reconcile-payments`` takes over many pending transactions.

Reproduce: ``make install && .venv/bin/python bench/payment_bench.py [N]`` (SQLite in a temporary
folder; set FAMILLE_DATABASE_URL to measure PostgreSQL). Prints figures; never fails.
"""

from __future__ import annotations

import os
import secrets
import sys
import tempfile
import time
from datetime import date
from decimal import Decimal
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

from werkzeug.test import Client

from famille_core import settings_from_mapping
from famille_core.entities import Actor, Family, Invoice, PaymentState, PaymentTransaction, Role
from famille_core.persistence import build_sql_portal, upgrade_database
from famille_core.services.accounts import create_user
from famille_plugins.billing.services import payments as services
from famille_plugins.tipi_payment.services import soap
from famille_plugins.tipi_payment.services.simulator import PayfipSimulator


def main(count: int = 300) -> None:
    folder = Path(tempfile.mkdtemp())
    url = os.environ.get("FAMILLE_DATABASE_URL") or f"sqlite:///{folder / 'bench.sqlite'}"
    upgrade_database(url)
    settings = settings_from_mapping(
        {"regies": [{"code": "default", "name": "Régie", "numcli": "021289"}]}
    )
    portal = build_sql_portal(settings, url, instance_path=folder)
    simulator = PayfipSimulator(notify=lambda _url, _data: None)
    soap.TRANSPORT = lambda _url, body, _timeout: (
        Client(simulator).post("/tpa/services/securite", data=body).get_data()
    )

    with portal.unit_of_work() as uow:
        family = Family(family_number="900000000001", name="BENCH")
        uow.add(family)
        uow.flush()
        assert family.id is not None
        for i in range(count * 2):
            uow.add(
                Invoice(
                    family_id=family.id,
                    number=f"B{i:07d}",
                    reference=f"2026-BE-00-{i:05d}",
                    issue_date=date(2026, 11, 1),
                    due_date=date(2026, 11, 30),
                    total=Decimal("84.95"),
                )
            )
        uow.commit()
        invoice_ids = [i.id for i in uow.find(Invoice, order_by=("id",)) if i.id is not None]
    with portal.unit_of_work() as uow:
        user = create_user(
            portal,
            uow,
            email="bench@example.org",
            password=secrets.token_urlsafe(24),
            role=Role.PARENT,
            display_name="Bench",
            family_id=family.id,
        )
        uow.commit()
    actor = Actor.for_user(user)

    def urls(tid: int) -> tuple[str, str]:
        return f"https://p.example/{tid}/r", f"https://p.example/{tid}/n"

    start = time.perf_counter()
    started = []
    for invoice_id in invoice_ids[:count]:
        redirect = services.start_payment(portal, actor, invoice_id, "payfip", urls)
        started.append(parse_qs(urlsplit(redirect.url).query)["idop"][0])
    elapsed = time.perf_counter() - start
    print(f"start payment (store + creerPaiementSecurise): {count / elapsed:,.0f} per second")

    for idop in started:
        simulator._decide(simulator.operations[idop], "payer")
    with portal.unit_of_work() as uow:
        tids = [t.id for t in uow.find(PaymentTransaction, order_by=("id",)) if t.id is not None]
    start = time.perf_counter()
    for tid in tids:
        services.apply_outcome(portal, tid, services.verify(portal, tid, {}))
    elapsed = time.perf_counter() - start
    print(f"verify + credit (recupererDetailPaiementSecurise): {count / elapsed:,.0f} per second")

    start = time.perf_counter()
    for tid in tids:
        services.apply_outcome(portal, tid, None)  # a replayed notification: settled, no change
    elapsed = time.perf_counter() - start
    print(f"replayed notification on a settled payment: {count / elapsed:,.0f} per second")

    for invoice_id in invoice_ids[count:]:
        services.start_payment(portal, actor, invoice_id, "payfip", urls)  # left unpaid: P5
    start = time.perf_counter()
    report = services.reconcile(portal)
    elapsed = time.perf_counter() - start
    print(
        f"reconcile-payments over {report.checked} pending: {elapsed:.2f} s "
        f"({report.checked / elapsed:,.0f} per second), still pending {report.still_pending}"
    )
    with portal.unit_of_work() as uow:
        paid = uow.count(PaymentTransaction, state=PaymentState.PAID)
    print(f"paid transactions: {paid} (expected {count})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 300)
