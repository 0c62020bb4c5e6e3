"""Fast pages (docs/deployment.md, "Fast pages"): a family's page is answered from the worker's
memory while its household's data is unchanged, and never once a change is committed — by the
family, an agent, the ERP, an import, on this worker or another."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, insert, update

from famille_core import FixedClock, Portal
from famille_core.entities import (
    Activity,
    Child,
    Family,
    Guardian,
    Invoice,
    InvoiceStatus,
    Message,
    Thread,
)
from famille_core.persistence import build_sql_portal, page_versions
from famille_core.persistence.tables import absence, activity
from famille_core.settings import Settings
from host_flask.page_cache import PageCache, cache_of
from tests.conftest import csrf_token, login

PAGES = ("/", "/agenda/", "/factures/", "/messages/", "/compte/")
FIRST_OPEN_DAY = "2026-11-19"  # the tests' clock: Monday 16 November 2026, 09:00 Paris


@pytest.fixture
def settings_data(settings_data: dict[str, Any]) -> dict[str, Any]:
    return {**settings_data, "portal": {**settings_data["portal"], "acting_services": ["ENFANCE"]}}


def _cache(app: Flask) -> PageCache:
    cache = cache_of(app)
    assert cache is not None
    return cache


def _ids(portal: Portal) -> dict[str, int]:
    with portal.unit_of_work() as uow:
        dupont = uow.first(Family, name="DUPONT")
        martin = uow.first(Family, name="MARTIN")
        emma = uow.first(Child, first_name="Emma", last_name="DUPONT")
        lea = uow.first(Child, first_name="Léa")
        cantine = uow.first(Activity, code="CANTINE")
        assert dupont and martin and emma and lea and cantine
        return {
            "dupont": dupont.id or 0,
            "martin": martin.id or 0,
            "emma": emma.id or 0,
            "lea": lea.id or 0,
            "cantine": cantine.id or 0,
        }


def _versions(portal: Portal, family_id: int) -> tuple[int, int]:
    with portal.unit_of_work() as uow:
        return page_versions.read(uow.session, family_id)  # type: ignore[attr-defined]


def _page(client: FlaskClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, path
    return response.get_data(as_text=True)


def test_a_second_view_is_answered_from_memory_with_the_same_html(
    app: Flask, parent_client: FlaskClient
) -> None:
    cache = _cache(app)
    for path in PAGES:
        first = _page(parent_client, path)
        hits = cache.hits
        again = _page(parent_client, path)
        assert cache.hits == hits + 1, path
        assert again == first, path
        assert "\x00" not in again and 'data-session-idle="1800"' in again, path


def test_each_address_is_its_own_page(demo: Portal, parent_client: FlaskClient) -> None:
    """Another month (another query string) is never answered with a kept page."""
    ids = _ids(demo)
    november = _page(parent_client, f"/agenda/?enfant={ids['emma']}&mois=2026-11")
    december = _page(parent_client, f"/agenda/?enfant={ids['emma']}&mois=2026-12")
    assert "novembre 2026" in november and "décembre 2026" in december
    assert november != december
    again = _page(parent_client, f"/agenda/?enfant={ids['emma']}&mois=2026-11")
    assert again == november


def test_a_booking_shows_at_once_on_the_agenda_and_the_home_page(
    app: Flask, demo: Portal, parent_client: FlaskClient
) -> None:
    ids = _ids(demo)
    agenda = f"/agenda/?enfant={ids['emma']}&mois=2026-11"
    before = _page(parent_client, agenda)
    home = _page(parent_client, "/")
    assert 'aria-label="jeudi 19 novembre 2026, Cantine : réservable' in _page(parent_client, agenda)
    token = csrf_token(parent_client, "/agenda/")
    booked = parent_client.post(
        "/agenda/reserver",
        data={"csrf_token": token, "child_id": ids["emma"], "activity_id": ids["cantine"], "day": FIRST_OPEN_DAY},
    )
    assert booked.status_code == 302
    _page(parent_client, booked.headers["Location"])  # the page with the flashed message
    after = _page(parent_client, agenda)
    assert after != before and 'aria-label="jeudi 19 novembre 2026, Cantine : réservé' in after
    assert "Emma, Cantine : réservé" in _page(parent_client, "/") and "Emma, Cantine" not in home


def test_a_flashed_message_is_shown_once_and_never_kept(app: Flask, demo: Portal, parent_client: FlaskClient) -> None:
    ids = _ids(demo)
    token = csrf_token(parent_client, "/agenda/")
    booked = parent_client.post(
        "/agenda/reserver",
        data={"csrf_token": token, "child_id": ids["emma"], "activity_id": ids["cantine"], "day": FIRST_OPEN_DAY},
    )
    location = booked.headers["Location"]
    cache = _cache(app)
    size = len(cache)
    assert "jeudi 19 novembre 2026 : réservé." in _page(parent_client, location)
    assert len(cache) == size  # the page with the message was not kept
    assert "jeudi 19 novembre 2026 : réservé." not in _page(parent_client, location)
    assert "jeudi 19 novembre 2026 : réservé." not in _page(parent_client, location)


def test_an_agents_answer_shows_in_the_family_inbox(
    app: Flask, demo: Portal, parent_client: FlaskClient, agent_client: FlaskClient
) -> None:
    token = csrf_token(parent_client, "/messages/nouveau")
    sent = parent_client.post(
        "/messages/nouveau",
        data={"subject": "Question de cantine", "body": "Bonjour, une question.", "csrf_token": token},
        content_type="multipart/form-data",
    )
    assert sent.status_code == 302
    _page(parent_client, sent.headers["Location"])  # the message is shown, then kept
    before = _page(parent_client, "/messages/")
    assert _page(parent_client, "/messages/") == before
    with demo.unit_of_work() as uow:
        thread = uow.first(Thread, subject="Question de cantine")
        assert thread is not None
        answers = uow.count(Message, thread_id=thread.id)
    page = f"/gestion/messages/conversation/{thread.id}"
    answered = agent_client.post(
        f"{page}/repondre",
        data={"body": "C'est noté.", "csrf_token": csrf_token(agent_client, page)},
        content_type="multipart/form-data",
    )
    assert answered.status_code == 302
    with demo.unit_of_work() as uow:
        assert uow.count(Message, thread_id=thread.id) == answers + 1
    assert _page(parent_client, "/messages/") != before


def test_an_invoice_paid_by_the_erp_and_an_invoice_import_show_at_once(
    app: Flask, demo: Portal, parent_client: FlaskClient, tmp_path: Path
) -> None:
    from famille_core.services.imports import import_file

    ids = _ids(demo)
    before = _page(parent_client, "/factures/")
    with demo.unit_of_work() as uow:  # as a payment reconciliation or the API would
        invoice = uow.first(Invoice, family_id=ids["dupont"], status=InvoiceStatus.OPEN)
        assert invoice is not None
        invoice.paid_amount = invoice.total
        invoice.status = InvoiceStatus.PAID
        uow.commit()
    paid = _page(parent_client, "/factures/")
    assert paid != before
    with demo.unit_of_work() as uow:
        family = uow.get(Family, ids["dupont"])
        assert family is not None and family.external_id
    path = tmp_path / "invoices.csv"
    path.write_text(
        "external_id,family,number,reference,issue_date,due_date,line.label,line.unit_price\n"
        f"F-1,{family.external_id},99998001,2026-CA-11-0201,2026-11-03,2026-11-30,Cantine,4.15\n",
        encoding="utf-8",
    )
    assert import_file(demo, "invoices", path).counts["created"] == 1
    assert "99998001" in _page(parent_client, "/factures/")


def test_a_profile_edit_shows_on_mon_compte(app: Flask, demo: Portal, parent_client: FlaskClient) -> None:
    ids = _ids(demo)
    assert "06 99 88 77 66" not in _page(parent_client, "/compte/")
    with demo.unit_of_work() as uow:
        guardian = uow.first(Guardian, family_id=ids["dupont"])
        assert guardian is not None
        guardian.phone_mobile = "06 99 88 77 66"
        uow.commit()
    assert "06 99 88 77 66" in _page(parent_client, "/compte/")


def test_an_activity_changed_by_an_administrator_shows_in_every_household(
    app: Flask, demo: Portal, parent_client: FlaskClient
) -> None:
    ids = _ids(demo)
    agenda = f"/agenda/?enfant={ids['emma']}"
    assert "Restaurant scolaire" not in _page(parent_client, agenda)
    household, everything = _versions(demo, ids["dupont"])
    with demo.unit_of_work() as uow:
        cantine = uow.get(Activity, ids["cantine"])
        assert cantine is not None
        cantine.label = "Restaurant scolaire"
        uow.commit()
    assert _versions(demo, ids["dupont"]) == (household, everything + 1)
    assert "Restaurant scolaire" in _page(parent_client, agenda)


def test_another_households_change_keeps_this_ones_pages(
    app: Flask, demo: Portal, parent_client: FlaskClient
) -> None:
    ids = _ids(demo)
    cache = _cache(app)
    for path in PAGES:
        _page(parent_client, path)
    before = _versions(demo, ids["dupont"])
    with demo.unit_of_work() as uow:  # Léa belongs to the MARTIN and BERNARD households only
        guardian = uow.first(Guardian, family_id=ids["martin"])
        lea = uow.get(Child, ids["lea"])
        assert guardian is not None and lea is not None
        guardian.phone_mobile = "06 11 22 33 44"
        lea.school = "École Jean Jaurès"
        uow.commit()
    assert _versions(demo, ids["dupont"]) == before
    hits = cache.hits
    for path in PAGES:
        _page(parent_client, path)
    assert cache.hits == hits + len(PAGES)


def test_a_shared_child_changes_both_households(demo: Portal) -> None:
    ids = _ids(demo)
    with demo.unit_of_work() as uow:
        bernard = uow.first(Family, name="BERNARD")
        assert bernard is not None and bernard.id
    martin, bernard_before = _versions(demo, ids["martin"]), _versions(demo, bernard.id)
    with demo.unit_of_work() as uow:
        lea = uow.get(Child, ids["lea"])
        assert lea is not None
        lea.class_level = "CM1"
        uow.commit()
    assert _versions(demo, ids["martin"])[0] == martin[0] + 1
    assert _versions(demo, bernard.id)[0] == bernard_before[0] + 1
    assert _versions(demo, ids["dupont"])[1] == martin[1]  # no global bump


def test_core_statements_through_the_session_bump_their_households_or_everything(demo: Portal) -> None:
    ids = _ids(demo)
    household, everything = _versions(demo, ids["dupont"])
    with demo.unit_of_work() as uow:  # a bulk insert, as a fast import writes
        uow.session.execute(  # type: ignore[attr-defined]
            insert(absence),
            [{"child_id": ids["emma"], "activity_id": ids["cantine"], "family_id": ids["dupont"],
              "day": date(2026, 11, 20), "reason_code": "MALADIE", "reason_label": "Maladie",
              "billable": False, "comment": "", "created_at": demo.clock.now()}],
        )
        uow.commit()
    assert _versions(demo, ids["dupont"]) == (household + 1, everything)
    with demo.unit_of_work() as uow:  # a bulk update whose households are unknown
        uow.session.execute(update(activity).values(capacity=40))  # type: ignore[attr-defined]
        uow.commit()
    assert _versions(demo, ids["dupont"]) == (household + 1, everything + 1)
    with demo.unit_of_work() as uow:  # a rolled back change bumps nothing
        guardian = uow.first(Guardian, family_id=ids["dupont"])
        assert guardian is not None
        guardian.phone_home = "01 02 03 04 05"
        uow.flush()
    assert _versions(demo, ids["dupont"]) == (household + 1, everything + 1)


def test_two_workers_see_each_others_changes(
    demo: Portal, app: Flask, parent_client: FlaskClient, engine: Engine, settings: Settings,
    clock: FixedClock, instance_path: Path,
) -> None:
    """Two applications on one database, each with its own portal, sessions and page cache, as
    two worker processes (or two hosts) are."""
    other_portal = build_sql_portal(settings, engine, clock=clock, instance_path=instance_path)
    other_app = __import__("host_flask").create_app({"TESTING": True}, portal=other_portal)
    other = other_app.test_client()
    assert login(other, "parent@example.org", "parent-demo-password").status_code == 302
    ids = _ids(demo)
    for client in (parent_client, other):
        assert "06 99 88 77 66" not in _page(client, "/compte/")
        _page(client, "/compte/")
    assert _cache(app).hits == 1 and _cache(other_app).hits == 1
    with other_portal.unit_of_work() as uow:  # a change made by the second worker
        guardian = uow.first(Guardian, family_id=ids["dupont"])
        assert guardian is not None
        guardian.phone_mobile = "06 99 88 77 66"
        uow.commit()
    assert "06 99 88 77 66" in _page(parent_client, "/compte/")
    assert "06 99 88 77 66" in _page(other, "/compte/")


def test_an_acting_agent_never_gets_the_familys_page(
    app: Flask, demo: Portal, parent_client: FlaskClient, agent_client: FlaskClient
) -> None:
    ids = _ids(demo)
    cache = _cache(app)
    _page(parent_client, "/factures/")
    token = csrf_token(agent_client, f"/gestion/familles/{ids['dupont']}")
    started = agent_client.post(f"/gestion/familles/{ids['dupont']}/agir", data={"csrf_token": token})
    assert started.status_code == 302
    hits, size = cache.hits, len(cache)
    for _ in range(2):
        page = _page(agent_client, "/factures/")
        assert "Vous agissez pour la famille DUPONT" in page
    assert (cache.hits, len(cache)) == (hits, size)


def test_the_minute_moves_the_page_on(app: Flask, demo: Portal, parent_client: FlaskClient) -> None:
    """Dates, "today" and deadlines move with the clock: a page is kept within its minute only;
    the idle countdown is put in at each answer."""
    cache = _cache(app)
    _page(parent_client, "/agenda/")  # logged in at 09:00:00
    demo.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    hits, misses = cache.hits, cache.misses
    page = _page(parent_client, "/agenda/")
    assert (cache.hits, cache.misses) == (hits + 1, misses)
    assert 'data-session-idle="1770"' in page  # 30 minutes less the 30 seconds since the login
    demo.clock.advance(timedelta(seconds=30))  # type: ignore[attr-defined]
    _page(parent_client, "/agenda/")
    assert cache.misses == misses + 1


class TestCacheOff:
    @pytest.fixture
    def settings_data(self, settings_data: dict[str, Any]) -> dict[str, Any]:
        return {**settings_data, "portal": {**settings_data["portal"], "page_cache_entries": 0}}

    def test_no_cache_when_page_cache_entries_is_0(self, app: Flask, demo: Portal, parent_client: FlaskClient) -> None:
        assert cache_of(app) is None
        ids = _ids(demo)
        assert "06 99 88 77 66" not in _page(parent_client, "/compte/")
        with demo.unit_of_work() as uow:
            guardian = uow.first(Guardian, family_id=ids["dupont"])
            assert guardian is not None
            guardian.phone_mobile = "06 99 88 77 66"
            uow.commit()
        assert "06 99 88 77 66" in _page(parent_client, "/compte/")
        assert 'data-session-idle="1800"' in _page(parent_client, "/")


def test_the_cache_is_bounded_in_entries_and_bytes() -> None:
    from host_flask.page_cache import Entry

    cache = PageCache(entries=3, max_bytes=10_000)
    for number in range(5):
        cache.put(("slot", number), Entry((0, 0, 0), b"x" * 1000, []))
    assert len(cache) == 3 and cache.get(("slot", 0), (0, 0, 0)) is None
    assert cache.get(("slot", 4), (0, 0, 0)) is not None
    cache.put(("big", 0), Entry((0, 0, 0), b"x" * 8000, []))
    assert cache.bytes <= 10_000 and cache.get(("big", 0), (0, 0, 0)) is not None
    cache.put(("slot", 4), Entry((1, 0, 0), b"y", []))  # a newer stamp replaces the slot's page
    assert cache.get(("slot", 4), (0, 0, 0)) is None
    assert cache.get(("slot", 4), (1, 0, 0)) is not None
    cache.put(("huge", 0), Entry((0, 0, 0), b"x" * 20_000, []))  # larger than the whole cache
    assert cache.get(("huge", 0), (0, 0, 0)) is None
    assert Decimal(cache.bytes) <= 10_000


def test_pages_of_a_past_minute_are_let_go_as_soon_as_a_new_minute_is_kept() -> None:
    """No view can match a past minute's page again: it stops holding memory (a quiet worker
    keeps only its last minute's pages, not ``page_cache_megabytes``)."""
    from host_flask.page_cache import Entry

    cache = PageCache(entries=100, max_bytes=1_000_000)
    for number in range(5):
        cache.put(("slot", number), Entry((0, 0, 7), b"x" * 1000, []))
    assert len(cache) == 5
    cache.put(("slot", 5), Entry((0, 0, 8), b"y" * 1000, []))
    assert len(cache) == 1 and cache.get(("slot", 5), (0, 0, 8)) is not None
    assert cache.bytes == 1000 + 512


def test_a_repeated_view_costs_the_session_check_alone(
    app: Flask, parent_client: FlaskClient, engine: Engine
) -> None:
    from tests.sql_counting import counting

    for path in PAGES:
        _page(parent_client, path)
        with counting(engine) as statements:
            _page(parent_client, path)
        # at most the session check's account, which reads the versions with it (on a connection
        # of its own, unseen here, except on an in-memory database): nothing of the page itself
        page = [s for s in statements if "FROM user_account" not in s]
        assert page == [], "\n".join(statements)
        assert all("data_version" in s for s in statements), "\n".join(statements)


@pytest.mark.parametrize("chunk", [500, 2])
def test_a_change_to_many_households_bumps_each_once(
    demo: Portal, chunk: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An import's batch changes hundreds of households, bumped by one statement (PostgreSQL
    locks their rows in id order first; SQLite's lists are cut in chunks): each one changed
    moves on by one, the others and the global version stay."""
    monkeypatch.setattr(page_versions, "BUMP_CHUNK", chunk)
    with demo.unit_of_work() as uow:
        families = uow.find(Family, order_by=("id",))
    assert len(families) >= 4
    changed, kept = [f.id or 0 for f in families[:3]], [f.id or 0 for f in families[3:]]
    before = {ident: _versions(demo, ident) for ident in changed + kept}
    with demo.unit_of_work() as uow:
        for ident in changed:
            guardian = uow.first(Guardian, family_id=ident)
            assert guardian is not None
            guardian.phone_home = f"01 02 03 04 0{ident % 10}"
        uow.commit()
    for ident in changed:
        assert _versions(demo, ident) == (before[ident][0] + 1, before[ident][1])
    for ident in kept:
        assert _versions(demo, ident) == before[ident]
