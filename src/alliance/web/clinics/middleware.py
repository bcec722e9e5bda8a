"""Each request in its clinic's time zone, so that pages show the clinic's local times.

A staff member's clinic, or the clinic of a client signed in to the portal; link pages
(check-in links) activate the zone of their link's clinic themselves, and the API its
token's. The zone is let go after the response, so nothing carries over to the next request.
"""

from __future__ import annotations

from django.utils import timezone

from alliance.web import localtime
from alliance.web.identity import account_for, staff_for


def clinic_of(user):
    staff = staff_for(user)
    if staff is not None:
        return staff.clinic
    account = account_for(user)
    return account.client.clinic if account is not None else None


class ClinicTimeZoneMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        clinic = clinic_of(getattr(request, "user", None))
        if clinic is not None:
            localtime.activate(clinic)
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
