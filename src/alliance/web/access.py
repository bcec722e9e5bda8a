"""View decorators: who may open a page at all (scoping decides which records they see).

`staff_required` lets in any active staff member and puts the membership on
`request.staff`; `role_required(...)` also checks the role. A signed-in user without the
role gets a plain "not available to your role" page (403): pages are not records, so this
reveals nothing. Records out of scope answer 404 through `alliance.web.scoping`.

Two more gates apply to every page, as middleware (alliance.web.accounts.middleware): staff
who typed their password but not yet their second factor reach only the two-factor pages
and sign-out, and sessions end after the idle and absolute timeouts.
`recent_password_required` asks for the password again before a security change.
"""

from __future__ import annotations

from functools import wraps

from django.contrib.auth.views import redirect_to_login
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode

from alliance.web.accounts.sessions import password_recent
from alliance.web.identity import staff_for


def _forbidden(request, reason: str):
    return render(request, "errors/forbidden.html", {"reason": reason}, status=403)


def role_required(*roles: str):
    def decorator(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            staff = staff_for(request.user)
            if staff is None:
                return _forbidden(request, "Your account is not an active member of a clinic.")
            if roles and staff.role not in roles:
                return _forbidden(request, "This page is not part of your role.")
            request.staff = staff
            return view(request, *args, **kwargs)
        return wrapper
    return decorator


def staff_required(view):
    return role_required()(view)


def treating_staff_required(view):
    """Therapists and supervisors: the people who carry cases."""
    return role_required("therapist", "supervisor")(view)


def admin_required(view):
    return role_required("admin")(view)


def recent_password_required(view):
    """The password typed within the last REAUTH_MINUTES (at sign-in or on the
    re-authentication page) before changing the password or the second factor."""
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if not password_recent(request.session):
            query = urlencode({"next": request.get_full_path()})
            return redirect(f"{reverse('accounts:reauth')}?{query}")
        return view(request, *args, **kwargs)
    return wrapper
