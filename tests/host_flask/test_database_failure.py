"""A database that fails during a save, or that restarted (docs/security.md point 38): the
person gets the French error page with every security header, the logs hold no value of the
failed statement, and a restarted database costs no failed request."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest
from flask.testing import FlaskClient
from sqlalchemy import Engine, text
from sqlalchemy.pool import NullPool

from famille_core import Portal
from famille_core.persistence import make_engine
from famille_core.persistence.account_check import account_reader
from tests.conftest import csrf_token
from tests.plugins.profile.conftest import child_id, post_form

CANARY = "CANARY-ALLERGIE-e41f7"


def _install(engine: Engine, failure: str) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql" and failure == "constraint":
            # PostgreSQL's error repeats the failing row in its DETAIL.
            connection.execute(
                text(
                    "ALTER TABLE health_record ADD CONSTRAINT test_refuse_canary "
                    f"CHECK (food_allergies NOT LIKE '{CANARY[:6]}%') NOT VALID"
                )
            )
        elif engine.dialect.name == "postgresql":
            connection.execute(
                text(
                    "CREATE FUNCTION test_gone() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
                    "INSERT INTO test_dropped_table VALUES (NEW.food_allergies); RETURN NEW; END $$"
                )
            )
            connection.execute(
                text(
                    "CREATE TRIGGER test_gone BEFORE INSERT OR UPDATE ON health_record "
                    "FOR EACH ROW EXECUTE FUNCTION test_gone()"
                )
            )
        else:
            body = (
                "SELECT RAISE(ABORT, 'refused by the test')"
                if failure == "constraint"
                else "INSERT INTO test_dropped_table VALUES (NEW.food_allergies)"
            )
            for moment in ("INSERT", "UPDATE"):
                # A run interrupted before its clean-up left it in the session's database once.
                connection.execute(text(f"DROP TRIGGER IF EXISTS test_gone_{moment}"))
                connection.execute(
                    text(
                        f"CREATE TRIGGER test_gone_{moment} BEFORE {moment} ON health_record "
                        f"WHEN NEW.food_allergies LIKE '{CANARY[:6]}%' BEGIN {body}; END"
                    )
                )


def _remove(engine: Engine, failure: str) -> None:
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql" and failure == "constraint":
            connection.execute(text("ALTER TABLE health_record DROP CONSTRAINT test_refuse_canary"))
        elif engine.dialect.name == "postgresql":
            connection.execute(text("DROP TRIGGER test_gone ON health_record"))
            connection.execute(text("DROP FUNCTION test_gone()"))
        else:
            for moment in ("INSERT", "UPDATE"):
                connection.execute(text(f"DROP TRIGGER test_gone_{moment}"))


@pytest.fixture(params=["constraint", "dropped_table"])
def refusing_health_records(request: pytest.FixtureRequest, engine: Engine) -> Iterator[None]:
    """The database fails to store a health record naming the canary: a constraint refuses it
    (an integrity error), or a trigger writes to a table that was dropped (an error the unit
    of work does not translate, which leaves the session failed)."""
    _install(engine, request.param)
    try:
        yield
    finally:
        _remove(engine, request.param)


def _as_written(record: logging.LogRecord) -> str:
    """The record as a log handler writes it, traceback and chained errors included."""
    return logging.Formatter("%(message)s %(name)s").format(record) + repr(record.__dict__)


def test_a_save_failing_in_the_database_gets_the_french_error_page_and_logs_no_value(
    parent_client: FlaskClient,
    demo: Portal,
    refusing_health_records: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    emma = child_id(demo, "Emma")
    path = f"/compte/enfants/{emma}/sanitaires"
    response = post_form(parent_client, path, {"food_allergies": CANARY, "doctor_name": "Dr X"})

    assert response.status_code == 500
    page = response.get_data(as_text=True)
    assert "Une erreur inattendue est survenue" in page
    assert "Traceback" not in page and CANARY not in page
    headers = response.headers
    assert "default-src 'self'" in headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in headers["Content-Security-Policy"]
    assert headers["X-Content-Type-Options"] == "nosniff"
    assert headers["Cache-Control"] == "no-store"
    assert headers["X-Frame-Options"] == "DENY"

    failures = [r for r in caplog.records if r.exc_info]
    assert failures, "the failure was not logged at all"
    assert any("health_record" in _as_written(r) for r in failures)  # still useful to debug
    for record in caplog.records:
        assert CANARY not in _as_written(record), record.getMessage()

    # Nothing half-saved, and the portal goes on: the same person's next page works.
    assert CANARY not in parent_client.get(f"/compte/enfants/{emma}/").get_data(as_text=True)
    assert parent_client.get("/").status_code == 200


@pytest.mark.postgres
def test_a_page_after_the_database_dropped_every_connection_still_answers(
    parent_client: FlaskClient, engine: Engine, database_url: str
) -> None:
    """After a PostgreSQL restart (here: every connection of the pool terminated), the first
    request of each process used to fail with a 500."""
    assert parent_client.get("/").status_code == 200  # the pool now holds a connection
    # Several connections in the session check's own pool, as after concurrent requests: a
    # restart leaves each of them stale, not only the first one tried.
    reader = account_reader(engine)
    held = [reader._lean_engine().raw_connection() for _ in range(3)]
    for connection in held:
        connection.close()
    killer = make_engine(database_url, poolclass=NullPool)
    with killer.begin() as connection:
        ended = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = current_database() AND pid <> pg_backend_pid()"
            )
        ).scalar_one()
    killer.dispose()
    assert ended >= 1
    assert parent_client.get("/").status_code == 200
    assert parent_client.get("/compte/").status_code == 200


def test_a_lost_race_in_a_view_that_does_not_expect_it_is_a_french_409(
    parent_client: FlaskClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deadlock or a key taken meanwhile reaches the person as a French conflict message
    with every security header, wherever it happens — not as a 500."""
    from famille_core.errors import Conflict
    from famille_core.persistence.uow import RACED
    from famille_plugins.inbox.services import mailboxes

    def loses_a_race(*_args: object, **_kwargs: object) -> None:
        raise Conflict(RACED)

    # Marking a message read expects no refusal (its forms use no form_action): a lost race
    # there is the generic conflict page.
    monkeypatch.setattr(mailboxes, "thread_of_message", loses_a_race)
    inbox = "/messages/"
    response = parent_client.post(
        "/messages/1/lu", data={"csrf_token": csrf_token(parent_client, inbox), "lu": "1"}
    )
    assert response.status_code == 409
    page = response.get_data(as_text=True).replace("&#39;", "'")
    assert "rien n'a été enregistré" in page and "<h1>Conflit</h1>" in page
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert "Content-Security-Policy" in response.headers
