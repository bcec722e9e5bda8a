"""A client's data for the treating therapist: export it, or erase it under a pseudonym.

Who: the therapist who treats the client, and only when they treat every one of the
client's cases (an export holds all of them). A supervisor reads cases but does not act on
a client's behalf (403); anyone else gets 404 through the scoping layer. Administrators see
no case records (docs/design.md section 7): a request they receive goes to the treating therapist,
or to the server's operator with `alliance client export|erase` (docs/privacy.md).
"""

from __future__ import annotations

import json

from django.contrib import messages
from django.shortcuts import redirect, render
from django.views.decorators.http import require_GET, require_http_methods

from alliance.web import scoping
from alliance.web.access import staff_required
from alliance.web.audit.services import record
from alliance.web.downloads import attachment
from alliance.web.privacy import services
from alliance.web.privacy.forms import EraseForm


def _client_to_act_on(request, pk, action: str):
    """(client, None), or (None, a 403 page) when the user does not treat all its cases."""
    client = scoping.get_client_or_404(request.user, pk)
    therapists = set(client.cases.values_list("therapist_id", flat=True))
    if therapists == {request.staff.pk}:
        return client, None
    if request.staff.pk in therapists:
        reason = ("This client also has a case with another therapist, so their data cannot "
                  "be exported or erased from here. Your clinic's operator can do it with "
                  "`alliance client` on the server.")
    else:
        reason = "Only the client's therapist can export or erase the client's data."
    record(request, action, client, outcome="denied", detail="not the client's only therapist")
    return None, render(request, "errors/forbidden.html", {"reason": reason}, status=403)


@staff_required
@require_GET
def client_privacy(request, pk):
    client, refused = _client_to_act_on(request, pk, "read")
    if refused:
        return refused
    return render(request, "privacy/client.html", {
        "client": client, "cases": client.cases.select_related("therapist"),
        "format": services.EXPORT_FORMAT, "version": services.EXPORT_VERSION})


@staff_required
@require_GET
def client_export(request, pk):
    client, refused = _client_to_act_on(request, pk, "export")
    if refused:
        return refused
    document = services.export_client(client)
    record(request, "export", client, detail="client data export (JSON)")
    return attachment(json.dumps(document, ensure_ascii=False, indent=2),
                      "application/json; charset=utf-8", f"client-{client.pk}-export.json")


@staff_required
@require_http_methods(["GET", "POST"])
def client_erase(request, pk):
    client, refused = _client_to_act_on(request, pk, "erase")
    if refused:
        return refused
    form = EraseForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            erased = services.erase_client(client, confirm_code=form.cleaned_data["code"])
        except services.PrivacyError as error:
            form.add_error("code", str(error))
        else:
            record(request, "erase", erased.client, detail="client data erased (pseudonymised)")
            messages.success(request, f"The client's data were erased. Their records are kept "
                                      f"under the pseudonym {erased.pseudonym}.")
            return redirect("privacy:client", pk=client.pk)
    return render(request, "privacy/erase.html", {"client": client, "form": form})
