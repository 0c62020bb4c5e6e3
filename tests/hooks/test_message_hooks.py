"""The messages' hooks, through the services that call them: where a conversation goes, who
posts a notice, who hears of a message, and every channel a notification takes."""

from __future__ import annotations

import pytest

from famille_core import Portal, hookimpl, notify_family
from famille_core.entities import Message, OutgoingEmail, Thread, User
from famille_core.hooks.results import FamilyNotice, Notification
from famille_core.services.accounts import security_notice
from famille_plugins.inbox.services.sending import send_message
from tests.hooks.conftest import plugged
from tests.plugins.calendar.conftest import Demo


class Route:
    def __init__(self, service: str | None) -> None:
        self.service = service

    @hookimpl
    def route_message(self, thread: Thread) -> str | None:
        return self.service


def _send(cal: Demo, subject: str = "Question") -> Message:
    with cal.portal.unit_of_work() as uow:
        message = send_message(cal.portal, uow, cal.parent, subject, "Bonjour")
        uow.commit()
        return message


def _service_of(portal: Portal, message: Message) -> str:
    with portal.unit_of_work() as uow:
        thread = uow.get(Thread, message.thread_id)
        assert thread is not None
        return thread.service


def test_route_message_first_answer_wins_the_trylast_default_is_the_first_service(
    cal: Demo,
) -> None:
    assert _service_of(cal.portal, _send(cal)) == "ENFANCE"  # the built-in default
    with plugged(cal.portal, Route("ENFANCE"), Route("SCOLAIRE")):
        assert _service_of(cal.portal, _send(cal)) == "SCOLAIRE"  # registered last, asked first
    with plugged(cal.portal, Route("SCOLAIRE"), Route(None)):
        assert _service_of(cal.portal, _send(cal)) == "SCOLAIRE"  # None passes the question on
    with plugged(cal.portal, Route("PISCINE")):
        assert _service_of(cal.portal, _send(cal)) == "ENFANCE"  # an unknown service: the first


def test_post_family_notice_first_answer_wins_over_the_inbox(cal: Demo) -> None:
    posted: list[FamilyNotice] = []

    class Sms:
        @hookimpl
        def post_family_notice(self, notice: FamilyNotice) -> int:
            posted.append(notice)
            return -1

    with plugged(cal.portal, Sms()), cal.portal.unit_of_work() as uow:
        assert notify_family(cal.portal, uow, cal.family_id, "Avis", "Texte") == -1
        assert uow.find(Message, family_id=cal.family_id, subject="Avis") == []
    assert [n.subject for n in posted] == ["Avis"]
    with cal.portal.unit_of_work() as uow:
        message_id = notify_family(cal.portal, uow, cal.family_id, "Avis", "Texte")
        assert message_id is not None and uow.get(Message, message_id) is not None


def test_on_message_notified_after_commit_never_for_a_rolled_back_message(cal: Demo) -> None:
    heard: list[str] = []

    class Push:
        @hookimpl
        def on_message(self, message: Message) -> None:
            heard.append(message.body)

    with plugged(cal.portal, Push()):
        with cal.portal.unit_of_work() as uow:
            send_message(cal.portal, uow, cal.parent, "Question", "Annulé")
            assert heard == []
            uow.rollback()
        _send(cal)
    assert heard == ["Bonjour"]


@pytest.mark.parametrize("commit", [True, False])
def test_deliver_notification_collected_every_channel_and_the_trylast_e_mail_in_the_transaction(
    cal: Demo, commit: bool
) -> None:
    texts: list[str] = []

    class Sms:
        @hookimpl
        def deliver_notification(self, notification: Notification) -> bool:  # leaves out uow
            texts.append(notification.to)
            return True

    with plugged(cal.portal, Sms()), cal.portal.unit_of_work() as uow:
        user = uow.first(User, email="parent@example.org")
        assert user is not None
        before = uow.count(OutgoingEmail, recipient=user.email)
        security_notice(cal.portal, uow, user, "vos coordonnées bancaires ont été modifiées")
        if commit:
            uow.commit()
        else:
            uow.rollback()
    assert texts == ["parent@example.org"]
    with cal.portal.unit_of_work() as uow:
        queued = uow.count(OutgoingEmail, recipient="parent@example.org") - before
    assert queued == (1 if commit else 0)  # the e-mail goes out only if the change commits
