"""The one scoping layer: every query for client data goes through these functions.

The rule (docs/design.md section 7):
- everything is limited to the user's own clinic;
- a therapist sees the cases they treat;
- a supervisor sees the cases of the therapists they supervise, and their own;
- an administrator sees no case records (aggregates only);
- anyone else (anonymous, deactivated, no clinic) sees nothing.

A record outside the user's scope answers 404, never 403, so that its existence is not
revealed. Views call `get_*_or_404`; lists start from `*_for(user)`.

`get_*_or_404` also record the read (a page view) or the refusal in the audit trail
(alliance.web.audit), so that no view can read a client's record unrecorded.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from alliance.web.audit.services import record_denied, record_read
from alliance.web.care.models import Case, Client, Session
from alliance.web.checkins.models import Administration
from alliance.web.clinics.models import StaffMember
from alliance.web.identity import staff_for


def therapist_ids_for(staff: StaffMember | None) -> list[int]:
    """Staff whose cases `staff` may see."""
    if staff is None or not staff.can_treat:
        return []
    ids = [staff.pk]
    if staff.is_supervisor:
        ids += list(staff.supervisees.filter(clinic_id=staff.clinic_id)
                    .values_list("pk", flat=True))
    return ids


def cases_for(user) -> QuerySet[Case]:
    staff = staff_for(user)
    ids = therapist_ids_for(staff)
    if not ids:
        return Case.objects.none()
    return Case.objects.filter(client__clinic_id=staff.clinic_id, therapist_id__in=ids)


def clients_for(user) -> QuerySet[Client]:
    """Clients with at least one case the user may see."""
    staff = staff_for(user)
    if staff is None:
        return Client.objects.none()
    return Client.objects.filter(clinic_id=staff.clinic_id,
                                 pk__in=cases_for(user).values("client_id"))


def sessions_for(user) -> QuerySet[Session]:
    return Session.objects.filter(case__in=cases_for(user))


def administrations_for(user) -> QuerySet[Administration]:
    return Administration.objects.filter(session__case__in=cases_for(user))


def _check_change(user, case: Case) -> None:
    # Supervisors read their supervisees' cases; only the treating therapist acts in them.
    # The case is in scope here, so saying "not yours to change" reveals nothing.
    staff = staff_for(user)
    if staff is None or case.therapist_id != staff.pk:
        record_denied("update", case, detail="not the case's therapist")
        raise PermissionDenied("Only the case's therapist can change it.")


def get_case_or_404(user, pk, *, for_change: bool = False, part_of_page: bool = False) -> Case:
    """A case in the user's scope (404 otherwise); `for_change`: only its own therapist (403).

    `part_of_page`: the request is a piece of the case page (its chart images), whose own
    view recorded the read; recording it again would show one page view as several reads.
    A refusal is recorded either way.
    """
    try:
        case = cases_for(user).select_related("client__clinic", "therapist").get(pk=pk)
    except (Case.DoesNotExist, ValueError, TypeError):
        record_denied("read", detail=f"case {pk!s:.40}: none in scope")
        raise Http404("No such case.") from None
    if for_change:
        _check_change(user, case)
    if not part_of_page:
        record_read(user, case)
    return case


def get_client_or_404(user, pk) -> Client:
    try:
        client = clients_for(user).get(pk=pk)
    except (Client.DoesNotExist, ValueError, TypeError):
        record_denied("read", detail=f"client {pk!s:.40}: none in scope")
        raise Http404("No such client.") from None
    record_read(user, client)
    return client


def get_session_or_404(user, case_pk, number, *, for_change: bool = False) -> Session:
    try:
        session = (sessions_for(user).select_related("case__client__clinic", "case__therapist")
                   .get(case_id=case_pk, number=number))
    except (Session.DoesNotExist, ValueError, TypeError):
        record_denied("read", detail=f"session {number!s:.20} of case {case_pk!s:.20}: "
                                     "none in scope")
        raise Http404("No such session.") from None
    if for_change:
        _check_change(user, session.case)
    record_read(user, session)
    return session


def staff_in_clinic(user) -> QuerySet[StaffMember]:
    """Staff of the user's clinic, for administrators (others see none)."""
    staff = staff_for(user)
    if staff is None or not staff.is_admin:
        return StaffMember.objects.none()
    return StaffMember.objects.filter(clinic_id=staff.clinic_id)


def get_staff_member_or_404(user, pk) -> StaffMember:
    try:
        return staff_in_clinic(user).select_related("user").get(pk=pk)
    except (StaffMember.DoesNotExist, ValueError, TypeError):
        raise Http404("No such staff member.") from None
