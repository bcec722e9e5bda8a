"""Site-level views: the home page sends each role where their work is."""

from django.conf import settings
from django.http import HttpResponseBadRequest
from django.shortcuts import redirect
from django.views.decorators.http import require_POST

from alliance.web import languages
from alliance.web.access import staff_required
from alliance.web.audit.services import record
from alliance.web.checkins import services as checkin_services
from alliance.web.errors import DomainError
from alliance.web.forms import LanguageForm
from alliance.web.portal.scoping import is_client_user


def home(request):
    # A signed-in client (following a link to the start page, say) goes to their portal.
    if is_client_user(request.user):
        return redirect("portal:home")
    return _staff_home(request)


@staff_required
def _staff_home(request):
    if request.staff.is_admin:
        return redirect("clinics:staff")
    return redirect("care:caseload")


@require_POST
def set_language(request):
    """The client pages' language switcher: remembers the choice on this browser (Django's
    language cookie) and, for a known client (signed in to the portal, or answering a
    check-in link that still works), as the client's own language."""
    form = LanguageForm(request.POST)
    if not form.is_valid():
        return HttpResponseBadRequest("Choose one of the languages offered.")
    language = form.cleaned_data["language"]
    target = languages.next_page(request, form.cleaned_data["next"])
    client, actor = languages.portal_client(request), None
    token = languages.checkin_token(target) if client is None else None
    if token:
        try:
            link = checkin_services.open_link(token)
        except DomainError:
            link = None
        if link is not None:
            client, actor = link.administration.session.case.client, link
    if client is not None and client.language != language:
        client.language = language
        client.save(update_fields=["language"])
        record(request, "update", client, actor=actor, clinic=client.clinic,
               detail=f"language: {language}")
    response = redirect(target)
    response.set_cookie(settings.LANGUAGE_COOKIE_NAME, language,
                        max_age=settings.LANGUAGE_COOKIE_AGE, path="/",
                        secure=settings.LANGUAGE_COOKIE_SECURE, httponly=True, samesite="Lax")
    return response
