"""Template context: the number of new items on the worklist, for the header."""

from alliance.web.identity import staff_for


def worklist(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    staff = staff_for(user)
    if staff is None or not staff.can_treat:
        return {}

    def count():  # only computed when the header shows it
        from alliance.web.outreach.worklist import new_count

        return new_count(staff)

    return {"worklist_new": count}
