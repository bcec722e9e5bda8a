"""Staff side of check-ins: sending a link, an in-room check-in, the therapist's form."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import logout
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from alliance.web import instruments, scoping
from alliance.web.access import staff_required
from alliance.web.audit.services import record
from alliance.web.checkins import services
from alliance.web.checkins.forms import InstrumentForm
from alliance.web.errors import DomainError
from alliance.web.outreach import services as outreach

def _instrument_in_use(request, respondent: str):
    """The instrument named in the request, if the clinic uses it for this respondent."""
    instrument_id = request.POST.get("instrument") or request.GET.get("instrument", "")
    available = instruments.administrable(request.staff.clinic.instruments_in_use, respondent)
    if not instrument_id and len(available) == 1:
        return available[0]
    return next((i for i in available if i.id == instrument_id), None)


@staff_required
@require_POST
@never_cache
def link_create(request, pk, number):
    session = scoping.get_session_or_404(request.user, pk, number, for_change=True)
    instrument = _instrument_in_use(request, "client")
    if instrument is None:
        messages.error(request, "Please choose a check-in your clinic uses.")
        return redirect("care:session", pk=pk, number=number)
    wants_email = bool(request.POST.get("send_email"))
    if wants_email and not session.case.client.contact_email:
        messages.error(request, "This client has no e-mail address on file.")
        return redirect("care:session", pk=pk, number=number)
    try:
        issued = services.issue_link(session, instrument.id, by=request.staff)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("care:session", pk=pk, number=number)
    url = request.build_absolute_uri(issued.path)
    record(request, "token_created", issued.administration,
           detail=f"check-in link {issued.link.pk} for session {session.number}")
    emailed = email_failed = False
    if wants_email:
        # Recorded like the automatic messages; a failure leaves the link shown below,
        # for the therapist to send another way.
        sent = outreach.record_sent_by_hand(issued, "email", request.staff)
        emailed, email_failed = sent.status == "sent", sent.status != "sent"
    # Shown once, in this response: only the token's hash is stored.
    return render(request, "checkins/link_created.html", {
        "case": session.case, "session": session, "instrument": instrument,
        "url": url, "link": issued.link, "emailed": emailed, "email_failed": email_failed,
    })


@staff_required
@require_POST
def in_room(request, pk, number):
    """Hand this device to the client: sign the therapist out, then open the client's form.

    The device leaves the therapist's hands, so the staff session ends here (in this
    browser) before the client sees anything: Back, or typing a staff address, reaches only
    the sign-in page. The therapist signs in again with their password afterwards.
    """
    session = scoping.get_session_or_404(request.user, pk, number, for_change=True)
    instrument = _instrument_in_use(request, "client")
    if instrument is None:
        messages.error(request, "Please choose a check-in your clinic uses.")
        return redirect("care:session", pk=pk, number=number)
    try:
        issued = services.issue_link(session, instrument.id, by=request.staff, in_room=True)
    except DomainError as exc:
        messages.error(request, str(exc))
        return redirect("care:session", pk=pk, number=number)
    record(request, "token_created", issued.administration,
           detail=f"in-room check-in link {issued.link.pk} for session {session.number}")
    logout(request)  # flushes the session (and records the sign-out)
    return redirect(issued.path)


@staff_required
def therapist_form(request, pk, number):
    session = scoping.get_session_or_404(request.user, pk, number, for_change=True)
    instrument = _instrument_in_use(request, "therapist")
    if instrument is None:
        raise Http404("No therapist form is in use.")
    form = InstrumentForm(request.POST or None, instrument=instrument)
    if request.method == "POST" and form.is_valid():
        try:
            services.submit_by_staff(
                session, instrument.id, form.responses(), form.answers(), by=request.staff)
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, f"Saved your ratings for session {session.number}.")
            return redirect("care:session", pk=pk, number=number)
    return render(request, "checkins/therapist_form.html", {
        "case": session.case, "session": session, "form": form, "spec": form.spec,
        "instrument": instrument,
    }, status=400 if request.method == "POST" else 200)
