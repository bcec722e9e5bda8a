"""Who a signed-in user is: a staff member of a clinic, a client in the portal, or neither.

Below the scoping layers and the audit trail, which both need to know it: the audit trail
names the clinic of whoever acted, and the scoping layers start every query from it. Only
models are imported here, so that nothing above creates an import cycle through it.
"""

from __future__ import annotations

from alliance.web.clinics.models import StaffMember
from alliance.web.portal.models import ClientAccount


def staff_for(user) -> StaffMember | None:
    """The user's active staff membership, or None (anonymous, deactivated, no clinic)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return None
    # Cached on the user object for the request, since every scoped query needs it.
    if not hasattr(user, "_alliance_staff"):
        user._alliance_staff = (StaffMember.objects.select_related("clinic")
                                .filter(user=user, is_active=True).first())
    return user._alliance_staff


def account_for(user) -> ClientAccount | None:
    """The user's client account, or None (anonymous, deactivated, staff)."""
    if not getattr(user, "is_authenticated", False) or not user.is_active or user.is_staff:
        return None
    # Cached on the user object for the request, since every portal query needs it.
    if not hasattr(user, "_alliance_client_account"):
        user._alliance_client_account = (ClientAccount.objects.select_related("client__clinic")
                                         .filter(user=user).first())
    return user._alliance_client_account
