"""Template context: the signed-in user's staff membership, for the navigation."""

from alliance.web.identity import staff_for


def staff(request):
    return {"staff": staff_for(request.user) if hasattr(request, "user") else None}
