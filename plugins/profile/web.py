"""Family pages of the profile plugin: Mon compte, Mes enfants, Mes données.

Views stay thin: parse the request, call :mod:`famille_plugins.profile.services`, commit, render.
"""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _

from famille_core.entities import Child
from famille_core.services.export import family_data
from famille_plugins.profile.services import account, changes, fields, photos, records, sections
from famille_plugins.profile.services.fields import (
    IBAN,
    VACCINATION_ROWS,
    FieldSpec,
    mask_iban,
)
from host_flask.toolkit import (
    Refusal,
    cached_page,
    current_actor,
    families_only,
    form_action,
    get_portal,
    recent_login_required,
    request_uow,
)

bp = Blueprint("profile", __name__, url_prefix="/compte", template_folder="templates")

RESERVED = ("csrf_token", "version")
PHOTO_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Disposition": 'inline; filename="photo.jpg"',
}


def _conflict_or(refusal: Refusal) -> dict[str | None, list[str]]:
    """A refusal's messages by field; a lost race says the record changed meanwhile."""
    if refusal.conflict:
        return {None: [_(records.CONFLICT_MESSAGE)]}
    return refusal.errors


def wants_json() -> bool:
    """True for a machine client (``Accept: application/json``): the state of a saved change
    (a refused one gets the problem document of :func:`host_flask.toolkit.form_action`)."""
    return request.accept_mimetypes.best == "application/json"


def form_data() -> dict[str, str]:
    """The submitted fields, without the CSRF token and the version."""
    return {key: value for key, value in request.form.items() if key not in RESERVED}


def display_value(spec: FieldSpec, value: Any) -> str:
    """A stored value as the form shows it (never the IBAN: it is typed again)."""
    if spec.kind == IBAN:
        return ""
    if isinstance(value, Decimal):
        return str(value).replace(".", ",")
    return fields.form_text(spec, value)


def record_values(specs: tuple[FieldSpec, ...], record: Any) -> dict[str, str]:
    """The form values of ``record`` (empty when there is none yet)."""
    if record is None:
        return {spec.name: ("on" if spec.name == "may_pick_up" else "") for spec in specs}
    return {spec.name: display_value(spec, getattr(record, spec.name, None)) for spec in specs}


def _pending_by_key(family_id: int) -> dict[tuple[str, int | None], list[Any]]:
    pending: dict[tuple[str, int | None], list[Any]] = {}
    for change in changes.pending_requests(request_uow(), family_id):
        pending.setdefault((change.section, change.target_id), []).append(change)
    return pending


@bp.route("/")
@families_only
@cached_page
def index() -> ResponseReturnValue:
    """Mon compte: each section, read-only, with its "Modifier" link."""
    actor = current_actor()
    view = account.account_view(get_portal(), request_uow(), actor)
    return render_template(
        "profile/index.html",
        view=view,
        extras=records.extras_shown(get_portal(), request_uow(), view.family.id, None, sections.FAMILY_SECTIONS),
        pending=_pending_by_key(view.family.id),
        titles=sections.SECTION_TITLES,
        mask_iban=mask_iban,
    )


def _render_form(
    section: str,
    *,
    action: str,
    back: str,
    values: dict[str, str],
    version: int | str,
    errors: dict[str | None, list[str]] | None = None,
    status: int = 200,
    child: Child | None = None,
    title: str | None = None,
    **extra: Any,
) -> ResponseReturnValue:
    portal = get_portal()
    specs = sections.section_specs(portal, section)
    # The IBAN is never sent back to the browser, not even as typed: the person types it again.
    values = {k: v for k, v in values.items() if k not in {s.name for s in specs if s.kind == IBAN}}
    return (
        render_template(
            "profile/section_form.html",
            section=section,
            title=title or sections.SECTION_TITLES[section],
            specs=specs,
            values=values,
            version=version,
            errors=errors or {},
            action=action,
            back=back,
            child=child,
            validated=sections.needs_validation(portal, section),
            **extra,
        ),
        status,
    )


def _save(
    section: str,
    *,
    action: str,
    back: str,
    done: str,
    child: Child | None = None,
    item_id: int | None = None,
    title: str | None = None,
    **extra: Any,
) -> ResponseReturnValue:
    """POST of a section form: save or ask for validation; on error show the form again."""
    data = form_data()
    version = request.form.get("version", "")

    def refused(refusal: Refusal) -> ResponseReturnValue:
        errors = _conflict_or(refusal)
        return _render_form(section, action=action, back=back, values=data, version=version,
                            errors=errors, status=refusal.status, child=child, title=title, **extra)

    with form_action(refused):
        outcome = changes.update_section(
            get_portal(),
            request_uow(),
            current_actor(),
            section,
            data,
            version,
            child_id=child.id if child else None,
            item_id=item_id,
        )
    if wants_json():
        return {"state": outcome.state}, 200
    if outcome.state == changes.PENDING:
        flash(_("Votre demande de modification est enregistrée : elle est en attente de validation par la mairie."), "info")
    else:
        flash(_("Vos modifications sont enregistrées."), "success")
    return redirect(done)


@bp.route("/<any(responsable, conjoint, fiscal, caf):section>", methods=["GET", "POST"])
@families_only
def edit_section(section: str) -> ResponseReturnValue:
    """Form of one section of Mon compte."""
    return _edit_family_section(section)


@bp.route("/banque", methods=["GET", "POST"])
@families_only
@recent_login_required
def edit_bank() -> ResponseReturnValue:
    """Coordonnées bancaires: a sensitive form (recent login, notice by e-mail)."""
    return _edit_family_section("banque")


def _edit_family_section(section: str) -> ResponseReturnValue:
    portal = get_portal()
    actor = current_actor()
    action = request.path
    back = url_for("profile.index")
    extra: dict[str, Any] = {}
    record = records.load_family_record(request_uow(), account.family_id_of(actor), section)
    if section == "banque" and record is not None:
        extra["current_iban"] = mask_iban(record.iban)
    if request.method == "POST":
        return _save(section, action=action, back=back, done=back, **extra)
    specs = sections.section_specs(portal, section)
    values = {**record_values(specs, record),
              **records.extra_values(request_uow(), account.family_id_of(actor), None, section)}
    return _render_form(section, action=action, back=back, values=values,
                        version=record.version if record is not None else 0, **extra)


@bp.route("/enfants/")
@families_only
def children() -> ResponseReturnValue:
    """Mes enfants: choose the child."""
    kids = account.my_children(request_uow(), current_actor())
    return render_template("profile/children.html", children=kids)


@bp.route("/enfants/<int:child_id>/")
@families_only
def child(child_id: int) -> ResponseReturnValue:
    """A child's record: authorised persons, details, health data, photo."""
    actor = current_actor()
    view = account.child_view(get_portal(), request_uow(), actor, child_id)
    return render_template(
        "profile/child.html",
        view=view,
        extras=records.extras_shown(get_portal(), request_uow(), account.family_id_of(actor), child_id,
                                     ("complementaires", "sanitaires")),
        pending=_pending_by_key(account.family_id_of(actor)),
        titles=sections.SECTION_TITLES,
        diets=dict(fields.SECTION_FIELDS["complementaires"][0].choices),
    )


@bp.route("/enfants/<int:child_id>/<any(complementaires, sanitaires):section>", methods=["GET", "POST"])
@families_only
def edit_child_section(child_id: int, section: str) -> ResponseReturnValue:
    """Données complémentaires or Données sanitaires of a child."""
    portal = get_portal()
    uow = request_uow()
    kid = account.visible_child(uow, current_actor(), child_id)
    back = url_for("profile.child", child_id=child_id)
    record = records.load_child_record(uow, kid, section)
    vaccinations = list(record.vaccinations) if section == "sanitaires" and record is not None else []
    extra: dict[str, Any] = {}
    if section == "sanitaires":
        extra = {"vaccinations": vaccinations, "vaccination_rows": min(len(vaccinations) + 3, VACCINATION_ROWS)}
    if request.method == "POST":
        return _save(section, action=request.path, back=back, done=back, child=kid, **extra)
    specs = sections.section_specs(portal, section)
    values = {**record_values(specs, record),
              **records.extra_values(uow, account.family_id_of(current_actor()), kid.id, section)}
    return _render_form(section, action=request.path, back=back, values=values,
                        version=record.version if record is not None else 0, child=kid, **extra)


@bp.route("/enfants/<int:child_id>/autorisations/nouvelle", methods=["GET", "POST"])
@bp.route("/enfants/<int:child_id>/autorisations/<int:person_id>", methods=["GET", "POST"])
@families_only
@recent_login_required
def edit_person(child_id: int, person_id: int | None = None) -> ResponseReturnValue:
    """Add or edit an authorised person (sensitive: recent login, notice by e-mail)."""
    portal = get_portal()
    uow = request_uow()
    actor = current_actor()
    kid = account.visible_child(uow, actor, child_id)
    person = records.load_child_record(uow, kid, "autorisations", person_id, account.family_id_of(actor)) if person_id else None
    back = url_for("profile.child", child_id=child_id)
    title = _("Modifier une personne autorisée") if person else _("Ajouter une personne autorisée")
    if request.method == "POST":
        return _save("autorisations", action=request.path, back=back, done=back, child=kid,
                     item_id=person_id, title=title)
    specs = sections.section_specs(portal, "autorisations")
    return _render_form("autorisations", action=request.path, back=back, values=record_values(specs, person),
                        version=person.version if person else 0, child=kid, title=title)


@bp.post("/enfants/<int:child_id>/autorisations/<int:person_id>/supprimer")
@families_only
@recent_login_required
def remove_person(child_id: int, person_id: int) -> ResponseReturnValue:
    """Remove an authorised person."""

    def refused(refusal: Refusal) -> ResponseReturnValue:
        for message in [_(records.CONFLICT_MESSAGE)] if refusal.conflict else refusal.messages:
            flash(message, "error")
        return redirect(url_for("profile.child", child_id=child_id))

    with form_action(refused):
        outcome = changes.remove_authorized_person(
            get_portal(), request_uow(), current_actor(), child_id, person_id, request.form.get("version")
        )
    if outcome.state == changes.PENDING:
        flash(_("La suppression est en attente de validation par la mairie."), "info")
    else:
        flash(_("La personne a été retirée de la liste."), "success")
    return redirect(url_for("profile.child", child_id=child_id))


@bp.route("/enfants/<int:child_id>/photo", methods=["GET", "POST"])
@families_only
def photo_form(child_id: int) -> ResponseReturnValue:
    """Upload the child's photo (JPEG or PNG)."""
    kid = account.visible_child(request_uow(), current_actor(), child_id)
    if request.method == "POST":
        upload = request.files.get("photo")
        data = upload.read() if upload is not None else b""
        extra_keys = [key for key in form_data() if key != "photo"]

        def refused(refusal: Refusal) -> ResponseReturnValue:
            return render_template("profile/photo.html", child=kid, errors=_conflict_or(refusal)), 422

        with form_action(refused):
            photos.set_photo(get_portal(), request_uow(), current_actor(), child_id, data, request.form.get("version"), extra_keys)
        flash(_("La photo est enregistrée."), "success")
        return redirect(url_for("profile.child", child_id=child_id))
    return render_template("profile/photo.html", child=kid, errors={}), 200


@bp.get("/enfants/<int:child_id>/photo.jpg")
@families_only
def photo(child_id: int) -> ResponseReturnValue:
    """The stored photo, for the family only."""
    return photo_response(child_id)


def photo_response(child_id: int) -> ResponseReturnValue:
    """A child's stored photo for the current actor: never cached, never sniffed."""
    data = photos.photo_bytes(get_portal(), request_uow(), current_actor(), child_id)
    if data is None:
        abort(404)
    return Response(data, mimetype="image/jpeg", headers=PHOTO_HEADERS)


@bp.get("/mes-donnees")
@families_only
def my_data() -> ResponseReturnValue:
    """Mes données: the download and the privacy notice."""
    return render_template("profile/my_data.html")


@bp.get("/mes-donnees.json")
@families_only
def my_data_json() -> ResponseReturnValue:
    """All the household's data as JSON (GDPR art. 15 and 20)."""
    account.family_id_of(current_actor())
    data = family_data(get_portal(), request_uow(), current_actor())
    body = json.dumps(data, ensure_ascii=False, indent=2, default=str)
    return Response(
        body,
        mimetype="application/json",
        headers={
            "Content-Disposition": 'attachment; filename="mes-donnees.json"',
            "Cache-Control": "no-store",
        },
    )

