"""The public check-in form, opened from a one-time link (no login).

Opening shows the form and changes nothing; only a valid submit consumes the link. A used,
expired or unknown link gets a kind page (410 or 404) and changes nothing.

The pages of a link that exists (the form, the thank-you, "already answered", "expired")
carry the clinic's name in their header, as the client knows it; the page for an unknown
link names nobody. The thank-you page (after a redirect) learns the clinic from a signed,
short-lived cookie set with the redirect: the URL stays free of anything identifying.
"""

from __future__ import annotations

from django.conf import settings
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import translation
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect

from alliance.web import instruments, languages, localtime
from alliance.web.audit.services import record
from alliance.web.checkins import services
from alliance.web.checkins.forms import InstrumentForm
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import Clinic
from alliance.web.goals import checkin as goal_questions
from alliance.web.intake import checkin as intake_questions
from alliance.web.safety import services as safety


THANKS_COOKIE = "checkin_clinic"
THANKS_COOKIE_SECONDS = 600


def _clinic_of(link):
    return link.administration.session.case.client.clinic


def _client_of(link):
    return link.administration.session.case.client


def _link_problem(request, exc):
    if isinstance(exc, services.LinkUsed | services.LinkExpired) and exc.link is not None:
        clinic = _clinic_of(exc.link)
        languages.activate(request, _client_of(exc.link))
    else:
        # An unknown link knows no client: the browser's language.
        clinic = None
    if isinstance(exc, services.LinkUsed):
        return render(request, "checkins/link_used.html", {"clinic": clinic}, status=410)
    if isinstance(exc, services.LinkExpired):
        return render(request, "checkins/link_expired.html", {"clinic": clinic}, status=410)
    # An unknown or tampered link: the page reveals nothing, not even a clinic.
    return render(request, "checkins/link_not_found.html", status=404)


def _part_forms(link, data, language):
    """One form per part of the check-in: the link's own form with plain field names, the
    others prefixed with their instrument id (so two parts never share a field name). Each
    is wholly in `language`, or wholly in its instrument's own language when it has no
    text in `language`."""
    forms = []
    for administration in services.parts_of(link):
        own = administration.pk == link.administration_id
        forms.append((administration, InstrumentForm(
            data, instrument=instruments.get_instrument(administration.instrument_id),
            language=language, prefix=None if own else administration.instrument_id)))
    return forms


@never_cache
@csrf_protect
def checkin_form(request, token):
    try:
        link = services.open_link(token)
    except (services.LinkNotFound, services.LinkUsed, services.LinkExpired) as exc:
        return _link_problem(request, exc)
    # The clinic's local times and the client's language on the page (the middleware
    # knows no one here).
    localtime.activate(_clinic_of(link))
    language = languages.activate(request, _client_of(link))
    data = request.POST or None
    parts = _part_forms(link, data, language)
    # Goal ratings, task reports and agreements, when the alliance check-in asks any.
    alliance = next((a for a, _ in parts if goal_questions.is_alliance_form(a)), None)
    goals_form = goal_questions.form_for(alliance, data) if alliance else None
    # The intake, with the check-in of the case's first sessions while it has none.
    session = link.administration.session
    intake_form = intake_questions.form_for(session, data)
    error = None
    valid = [form.is_valid() for _, form in parts] + [
        extra is None or extra.is_valid() for extra in (goals_form, intake_form)]
    if request.method == "POST" and all(valid):
        own = dict(parts)[link.administration]

        def also(stored):
            if goals_form:
                goals_form.store(alliance)
            if intake_form:
                intake_questions.store(intake_form, session)
            # In the submission's transaction: recorded exactly when the answers are stored,
            # and one commit for both. No one is signed in: the link acted, for its client.
            # One act, one event: about the link's own form, naming every form answered.
            record(request, "update", stored, actor=link, clinic=_clinic_of(link),
                   detail="check-in answered" + ("" if len(parts) == 1 else ": " + ", ".join(
                       a.instrument_id for a, _ in parts)))

        try:
            services.submit_link(
                token, own.responses(), own.answers(), also=also,
                language=own.spec.language,
                parts={a.pk: (f.responses(), f.answers(), f.spec.language) for a, f in parts
                       if a.pk != link.administration_id})
        except (services.LinkNotFound, services.LinkUsed, services.LinkExpired) as exc:
            return _link_problem(request, exc)
        except services.InvalidAnswers as exc:
            error = str(exc)
        else:
            in_room = link.administration.via == Administration.Via.IN_ROOM
            response = redirect(reverse("checkins:thanks") + ("?in_room=1" if in_room else ""))
            # After a risk answer the next page shows the clinic's crisis text, never a bare
            # thank-you (docs/safety.md); the signed cookie says so.
            risk = safety.session_has_alert(link.administration.session_id)
            # The thank-you page follows in the form's language.
            response.set_signed_cookie(
                THANKS_COOKIE, f"{_clinic_of(link).pk}:{language}{':risk' if risk else ''}",
                salt=THANKS_COOKIE,
                max_age=THANKS_COOKIE_SECONDS, path=reverse("checkins:thanks"),
                secure=settings.SESSION_COOKIE_SECURE, httponly=True, samesite="Lax")
            return response
    # A re-shown form keeps every answer given, with the problem next to the question.
    status = 400 if request.method == "POST" else 200
    forms = [form for _, form in parts]
    return render(request, "checkins/form.html", {
        "parts": forms, "error": error, "goals_form": goals_form, "intake_form": intake_form,
        "clinic": _clinic_of(link), "expires_at": link.expires_at,
        "has_errors": any(f.errors for f in forms) or any(
            extra is not None and bool(extra.errors) for extra in (goals_form, intake_form)),
        "inputs": sum(len(f.fields) for f in forms) + sum(
            len(extra.fields) for extra in (goals_form, intake_form) if extra is not None),
    }, status=status)


@never_cache
def thanks(request):
    value = request.get_signed_cookie(THANKS_COOKIE, default=None, salt=THANKS_COOKIE,
                                      max_age=THANKS_COOKIE_SECONDS) or ""
    clinic_id, _, rest = value.partition(":")
    language, _, risk = rest.partition(":")
    clinic = (Clinic.objects.filter(pk=clinic_id).first()
              if clinic_id and clinic_id.isdigit() else None)
    if languages.supported(language):
        translation.activate(languages.supported(language))
    return render(request, "checkins/thanks.html", {
        "in_room": request.GET.get("in_room") == "1", "clinic": clinic,
        "crisis_text": safety.crisis_text(clinic) if risk == "risk" else ""})
