"""Site-level views: the home page sends each role where their work is."""

from django.shortcuts import redirect

from alliance.web.access import staff_required


@staff_required
def home(request):
    if request.staff.is_admin:
        return redirect("clinics:staff")
    return redirect("care:caseload")
