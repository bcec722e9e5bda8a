"""Who may open a portal page: signed-in clients of a clinic whose portal is on.

- anonymous visitors go to the portal's sign-in page;
- a signed-in user without a client account (staff) gets a plain "these pages are for
  clients" page (403): pages are not records, so this reveals nothing;
- when the client's clinic has turned the portal off, every portal page answers 404.

Staff pages need the reverse: `alliance.web.access.role_required` lets in active staff
members only, and client users have no staff membership, so they get its 403 page.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse

from alliance.web.identity import account_for


def client_required(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path(), reverse("portal:sign_in"))
        account = account_for(request.user)
        if account is None:
            return render(request, "errors/forbidden.html",
                          {"reason": "These pages are for clients of the clinic."}, status=403)
        if not account.client.clinic.client_portal_enabled:
            raise Http404("The client portal is not available.")
        request.portal_account = account
        return view(request, *args, **kwargs)
    return wrapper
