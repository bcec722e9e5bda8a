"""The API tokens page: each therapist or supervisor creates (shown once), lists and revokes
the tokens that act as them; the clinic administrator lists and revokes every token of the
clinic but creates none (a token acting as someone else would show the administrator case
records)."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from alliance.web.access import staff_required
from alliance.web.api import tokens
from alliance.web.api.forms import TokenCreateForm
from alliance.web.api.models import ApiToken


@staff_required
@never_cache
def token_list(request):
    staff = request.staff
    form = None
    if staff.can_treat:
        form = TokenCreateForm(request.POST or None)
        if request.method == "POST" and form.is_valid():
            data = form.cleaned_data
            try:
                issued = tokens.create_token(staff.clinic, staff, name=data["name"],
                                             scope=data["scope"], expires_at=form.expires_at,
                                             by=staff, request=request)
            except tokens.TokenError as exc:
                form.add_error(None, str(exc))
            else:
                # Shown once, in this response: only the token's hash is stored.
                return render(request, "api/token_created.html",
                              {"issued": issued, "api_token": issued.api_token})
    elif request.method == "POST":
        return render(request, "errors/forbidden.html", {
            "reason": "A token acts as the person who creates it; administrators see no case "
                      "records, so they create none."}, status=403)
    return render(request, "api/tokens.html",
                  {"form": form, "tokens": tokens.tokens_for(staff)},
                  status=400 if request.method == "POST" else 200)


@staff_required
@require_POST
def token_revoke(request, pk):
    try:
        api_token = tokens.tokens_for(request.staff).get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404("No such token.") from None
    try:
        tokens.revoke_token(api_token, by=request.staff, request=request)
    except tokens.TokenError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Revoked “{api_token.name}”: it no longer works.")
    return redirect("api_tokens:list")
