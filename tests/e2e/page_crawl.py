"""The demo's pages, derived from the Flask URL map (not a hand-kept list), and what a browser
measures on each: the page's and every table box's width, cells out of sight, axe-core.

A GET route without arguments is visited as it is; a route with arguments is filled from the
demo's rows (a child, an authorised person, a message, an invoice…) and, for an ``any``
converter, with each of its values. Only routes that cannot be a page a person reads are left
out, each with its reason in :data:`NOT_PAGES`; a new route with an argument no demo row fills
makes :func:`demo_pages` fail, so the crawl never silently loses a page.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from werkzeug.routing import Rule
from werkzeug.routing.converters import AnyConverter

from famille_core import Portal
from famille_core.demo import HOUSEHOLDS
from famille_core.entities import (
    Attachment,
    AuthorizedPerson,
    ChangeRequest,
    Child,
    Family,
    FamilyChild,
    Invoice,
    Message,
    PaymentTransaction,
    User,
)
from tests.conftest import login

NOT_PAGES = {
    "rest": "an old address that only redirects (host_flask.toolkit.moved_pages)",
    "filename": "a static file",
    "token": "a secret link (iCalendar feed, payment return), not a page of the menu",
}
"""Route arguments that mark a route as no page to crawl, with the reason."""

NO_DEMO_ROW = {
    "transaction_id": "the demo holds no payment: the payment's result page is checked by the "
    "payment journey (tests/plugins/tipi_payment/test_e2e_payment.py)",
    "document_id": "the demo holds no justificatif (its demo absence is left for the parent's "
    "journey to attach one): the file's downloads are checked by "
    "tests/plugins/calendar/test_documents.py, the queue with a row by test_lists_e2e.py",
}
"""Route arguments the demo has no row for yet, with where their pages are checked instead."""

LOGINS = {
    "parent": ("parent@example.org", "parent-demo-password"),
    "agent": ("agent@example.org", "agent-demo-password"),
}


def ask_for_a_change(portal: Portal) -> None:
    """A change of tax data waiting for an agent (what a parent's form leaves), so the agents'
    queue and its decision page are crawled with a row."""
    with portal.unit_of_work() as uow:
        dupont = uow.first(Family, family_number=HOUSEHOLDS["DUPONT"])
        assert dupont is not None and dupont.id is not None
        values = {"year": "2025", "reference_income": "43 500,00", "tax_shares": "3"}
        uow.add(
            ChangeRequest(
                family_id=dupont.id,
                section="fiscal",
                payload={"values": values, "item_id": None, "action": "edit"},
                created_at=portal.clock.now(),
            )
        )
        uow.commit()


def demo_rows(portal: Portal) -> list[dict[str, Any]]:
    """The demo rows route arguments are filled from, each as ``{argument: value}``."""
    rows: list[dict[str, Any]] = []
    with portal.unit_of_work() as uow:
        dupont = uow.first(Family, family_number=HOUSEHOLDS["DUPONT"])
        assert dupont is not None and dupont.id is not None
        rows.append({"family_id": dupont.id})
        rows += [
            {"child_id": p.child_id, "person_id": p.id}
            for p in uow.find(AuthorizedPerson, family_id=dupont.id, order_by=("id",))
        ]
        for link in uow.find(FamilyChild, family_id=dupont.id, order_by=("child_id",)):
            child = uow.get(Child, link.child_id)
            assert child is not None
            rows.append({"child_id": child.id})
        rows += [
            {"message_id": m.id, "thread_id": m.thread_id}
            for m in uow.find(Message, family_id=dupont.id, order_by=("id",))
        ]
        rows += [{"attachment_id": a.id} for a in uow.find(Attachment, order_by=("id",))[:1]]
        invoices = uow.find(Invoice, family_id=dupont.id, order_by=("id",))
        rows += [{"invoice_id": i.id} for i in invoices]
        # The attestations de frais de garde: each child, each year DUPONT was invoiced.
        children = [link.child_id for link in uow.find(FamilyChild, family_id=dupont.id)]
        rows += [
            {"year": year, "child_id": child_id}
            for year in sorted({i.issue_date.year for i in invoices})
            for child_id in children
        ]
        rows += [
            {"transaction_id": t.id} for t in uow.find(PaymentTransaction, order_by=("id",))[:1]
        ]
        rows += [{"request_id": r.id} for r in uow.find(ChangeRequest, order_by=("id",))[:1]]
        users = uow.find(User, order_by=("id",))
        # An invited account (PETIT's) first: its page shows the most (the invitation's state).
        rows += [{"user_id": u.id} for u in sorted(users, key=lambda u: not u.is_invited)]
    rows += [{"service": service} for service in portal.settings.collectivity.services]
    return rows


def _urls_of(app: Flask, rule: Rule, rows: list[dict[str, Any]]) -> list[str]:
    """The URLs of ``rule`` from the demo rows: the first row holding all its arguments (rows
    come richest first: the child with an authorised person…), with each value of an ``any``
    converter."""
    choices = {
        name: sorted(converter.items)
        for name, converter in rule._converters.items()
        if isinstance(converter, AnyConverter)
    }
    others = set(rule.arguments) - set(choices)
    filled = [{k: row[k] for k in others} for row in rows if others <= set(row)][:1]
    if not others:
        filled = [{}]
    if not filled:
        raise AssertionError(
            f"{rule.rule}: no demo row fills {sorted(others)} — add the demo data (demo.py) "
            "or a row in tests/e2e/page_crawl.py:demo_rows"
        )
    urls: list[str] = []
    for values in filled:
        combos: list[dict[str, Any]] = [values]
        for name, items in choices.items():
            combos = [{**c, name: item} for c in combos for item in items]
        with app.test_request_context():
            from flask import url_for

            urls += [url_for(rule.endpoint, **combo) for combo in combos]
    return list(dict.fromkeys(urls))


def candidate_urls(app: Flask, portal: Portal) -> list[str]:
    """The GET URLs of the URL map, arguments filled from the demo (see the module's doc)."""
    rows = demo_rows(portal)
    urls: list[str] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if "GET" not in (rule.methods or ()) or set(rule.arguments) & set(NOT_PAGES):
            continue
        if set(rule.arguments) & set(NO_DEMO_ROW) and not any(
            set(rule.arguments) <= set(row) for row in rows
        ):
            continue
        if rule.rule.startswith("/api/"):
            continue  # machines' JSON (tests/api)
        urls += _urls_of(app, rule, rows)
    return urls


def html_pages(app: Flask, urls: Iterable[str], who: str) -> list[str]:
    """The URLs that answer ``who`` (a key of :data:`LOGINS`) an HTML page (200).

    Some public pages end the session (the login page, the second factor's); the crawl logs in
    again when it is sent to the login page."""
    client: FlaskClient = app.test_client()
    assert login(client, *LOGINS[who]).status_code == 302
    pages = []
    for url in urls:
        answer = client.get(url)
        if answer.status_code == 302 and answer.location.startswith("/connexion?next="):
            assert login(client, *LOGINS[who]).status_code == 302
            answer = client.get(url)
        if answer.status_code == 200 and answer.mimetype == "text/html":
            pages.append(url)
    return pages


MEASURE = """() => {
  const root = document.documentElement;
  const problems = [];
  if (root.scrollWidth > root.clientWidth) {
    problems.push(`page scrolls sideways: ${root.scrollWidth} > ${root.clientWidth}`);
  }
  const focusableBox = (el) => {
    for (let box = el.parentElement; box && box !== document.body; box = box.parentElement) {
      const style = getComputedStyle(box);
      if (['auto', 'scroll'].includes(style.overflowX)) {
        return box.tabIndex >= 0 && (box.getAttribute('aria-label') || box.getAttribute('aria-labelledby')) ? box : null;
      }
    }
    return null;
  };
  for (const table of document.querySelectorAll('table')) {
    const box = table.parentElement;
    const scrollBox = focusableBox(table);
    if (!scrollBox && box.scrollWidth > box.clientWidth) {
      problems.push(`table box ${box.className || box.tagName}: ${box.scrollWidth} > ${box.clientWidth}`);
    }
    if (scrollBox) continue;
    for (const cell of table.querySelectorAll('th, td')) {
      const rect = cell.getBoundingClientRect();
      if (rect.width === 0 && rect.height === 0) continue;
      if (rect.right > root.clientWidth + 1 || rect.left < -1 || cell.scrollWidth > cell.clientWidth + 1) {
        problems.push(`cell out of sight: "${cell.innerText.trim().slice(0, 30)}" (${Math.round(rect.left)}..${Math.round(rect.right)})`);
        break;
      }
    }
  }
  for (const hidden of document.querySelectorAll('.visually-hidden')) {
    const rect = hidden.getBoundingClientRect();
    if (rect.right > root.clientWidth + 1) {
      problems.push(`hidden text escapes: "${hidden.textContent.trim().slice(0, 30)}"`);
      break;
    }
  }
  return {problems, scrollWidth: root.scrollWidth, clientWidth: root.clientWidth,
          boxes: [...document.querySelectorAll('table')].map(t => [t.parentElement.scrollWidth, t.parentElement.clientWidth])};
}"""
"""A script returning what is out of sight on the page (empty ``problems`` when all fits)."""
