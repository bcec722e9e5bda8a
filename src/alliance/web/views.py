"""Site-level views: the home page sends each role where their work is."""

from django.shortcuts import redirect

from alliance.web.access import staff_required
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
