"""One answer for a refused form: :func:`form_action`.

A page calls a service inside ``with form_action(refused=...)``: on success the request's unit
of work is committed at the end of the block; when the service refuses
(:class:`~famille_core.errors.ValidationFailed`) or loses a race
(:class:`~famille_core.errors.Conflict`), nothing is saved and the request is answered at once —
a person gets the page's own answer (``refused``: the form again with its French messages, or a
message and a redirect), a machine (``Accept: application/json``) gets the one RFC 9457 problem
document of :mod:`host_flask.problems`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from attrs import frozen
from flask import abort, g, make_response
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.errors import Conflict, Issue, ValidationFailed
from host_flask.context import request_uow
from host_flask.problems import problem_for, problem_response, wants_json


@frozen
class Refusal:
    """Why the services refused a form; nothing was saved.

    :param status: 422 when a rule refused it, 409 when it lost a race with another change.
    :param issues: the refusal's issues; a conflict is one issue without field, code
        ``"conflict"``.
    """

    status: int
    issues: tuple[Issue, ...]

    @classmethod
    def of(cls, exc: ValidationFailed | Conflict) -> Refusal:
        """The refusal that ``exc`` stands for."""
        if isinstance(exc, Conflict):
            return cls(409, (Issue(code=exc.code, message=exc.message),))
        return cls(422, exc.issues)

    @property
    def conflict(self) -> bool:
        """True when the form lost a race (another change came first)."""
        return self.status == 409

    @property
    def errors(self) -> dict[str | None, list[str]]:
        """The messages by field name (``None``: the whole form), in the person's language."""
        grouped: dict[str | None, list[str]] = {}
        for issue in self.issues:
            grouped.setdefault(issue.field, []).append(_(issue.message))
        return grouped

    @property
    def messages(self) -> list[str]:
        """Every message, in order, in the person's language (to flash before a redirect)."""
        return [_(issue.message) for issue in self.issues]

    def has(self, code: str) -> bool:
        """True when one of the issues has ``code``."""
        return any(issue.code == code for issue in self.issues)


Refused = Callable[[Refusal], ResponseReturnValue]
"""What a page answers a person whose form was refused."""


@contextmanager
def form_action(refused: Refused) -> Iterator[None]:
    """Run a form's service calls; commit them, or answer the refusal.

    ::

        def again(refusal: tk.Refusal) -> ResponseReturnValue:
            return render_template("inbox/new.html", errors=refusal.errors), refusal.status

        with tk.form_action(refused=again):
            message = services.send_message(portal, tk.request_uow(), actor, subject, body)
        flash(_("Votre message a été envoyé."), "success")
        return redirect(url_for("inbox.show", message_id=message.id))

    On success the request's unit of work is committed when the block ends (a commit that
    loses a race is a refusal too). On :class:`ValidationFailed` or :class:`Conflict` the unit
    of work is rolled back first, so ``refused`` reads the database as it is; then the request
    is answered with ``refused(refusal)`` for a person, or the problem document (422 or 409) for
    a machine: the code after the block does not run.
    """
    uow = request_uow()
    try:
        yield
        uow.commit()
    except (ValidationFailed, Conflict) as exc:
        uow.rollback()
        if wants_json():
            abort(problem_response(problem_for(exc)))
        g.form_refused = True  # the page's title starts with "Erreur :" (base.html)
        abort(make_response(refused(Refusal.of(exc))))
