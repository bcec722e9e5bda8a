"""The clinic administrator's page of API tokens: create (shown once), list, revoke."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from alliance.web.access import admin_required
from alliance.web.api import tokens
from alliance.web.api.forms import TokenCreateForm
from alliance.web.api.models import ApiToken


@admin_required
@never_cache
def token_list(request):
    clinic = request.staff.clinic
    form = TokenCreateForm(request.POST or None, clinic=clinic)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            issued = tokens.create_token(clinic, data["staff"], name=data["name"],
                                         scope=data["scope"], expires_at=form.expires_at,
                                         by=request.staff, request=request)
        except tokens.TokenError as exc:
            form.add_error(None, str(exc))
        else:
            # Shown once, in this response: only the token's hash is stored.
            return render(request, "api/token_created.html",
                          {"issued": issued, "api_token": issued.api_token})
    return render(request, "api/tokens.html",
                  {"form": form, "tokens": tokens.tokens_of(clinic)},
                  status=400 if request.method == "POST" else 200)


@admin_required
@require_POST
def token_revoke(request, pk):
    try:
        api_token = tokens.tokens_of(request.staff.clinic).get(pk=pk)
    except (ApiToken.DoesNotExist, ValueError, TypeError):
        raise Http404("No such token.") from None
    try:
        tokens.revoke_token(api_token, by=request.staff, request=request)
    except tokens.TokenError as exc:
        messages.error(request, str(exc))
    else:
        messages.success(request, f"Revoked “{api_token.name}”: it no longer works.")
    return redirect("api_tokens:list")
