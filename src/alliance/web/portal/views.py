"""The client portal's pages: signing in, home, goals and tasks, feedback, progress.

Thin views: `client_required` lets in signed-in clients of a clinic whose portal is on;
records come through `alliance.web.portal.scoping` (another client's record answers 404);
changes go through services (`portal.services`, `goals.services`) that raise a
`DomainError` with a message for the client when a rule says no. Every page works
without JavaScript.
"""

from __future__ import annotations

import time

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.utils.translation import gettext as _
from axes.handlers.proxy import AxesProxyHandler
from django.contrib.auth import login, logout, update_session_auth_hash
from django.contrib.auth.signals import user_login_failed
from django.contrib.auth.views import PasswordResetConfirmView
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse, reverse_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.http import require_GET, require_POST
from django.utils.translation import gettext as _

from alliance.web.accounts import address_limit
from alliance.web.accounts.views import locked_out
from alliance.web.audit.services import record
from alliance.web.errors import DomainError
from alliance.web.flow import act
from alliance.web.intake import services as intake_services
from alliance.web.intake.forms import IntakeForm
from alliance.web.portal import goals as portal_goals
from alliance.web.portal import progress, scoping, services
from alliance.web.portal import tasks as portal_tasks
from alliance.web.portal.access import client_required
from alliance.web.portal.forms import (ChoosePasswordForm, FeedbackForm, GoalForm,
                                       LinkRequestForm, PasswordSignInForm, TaskReportForm)
from alliance.web.portal.models import ClientAccount
from alliance.web.safety import services as safety

BACKEND = "django.contrib.auth.backends.ModelBackend"
# Set when a message raised a risk alert: the next page shows the clinic's crisis text.
CRISIS_KEY = "portal_show_crisis_text"
# The same policy as the staff charts: matplotlib writes its styles inline; the image has
# no script and loads nothing.
CHART_POLICY = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'"


def _sign_in(request, account: ClientAccount) -> None:
    login(request, account.user, backend=BACKEND)


# --------------------------------------------------------------------------- signing in

@never_cache
@csrf_protect
def sign_in(request):
    """Ask for a sign-in link by e-mail, or sign in with a password."""
    if scoping.is_client_user(request.user):
        return redirect("portal:home")
    link_form = LinkRequestForm(prefix="link")
    password_form = PasswordSignInForm(prefix="password")
    status = 200
    if request.method == "POST" and request.POST.get("method") == "link":
        link_form = LinkRequestForm(request.POST, prefix="link")
        if link_form.is_valid():
            started = time.monotonic()
            # The worker looks the address up and sends the link: this request does the
            # same for any address, and answers no sooner than the staff password reset.
            portal_tasks.send_sign_in_links.enqueue(link_form.cleaned_data["email"],
                                                    request.build_absolute_uri("/"))
            rest = settings.PASSWORD_RESET_ANSWER_SECONDS - (time.monotonic() - started)
            if rest > 0:
                time.sleep(rest)
            # The same answer whether or not the address is known.
            return redirect("portal:sign_in_sent")
        status = 400
    elif request.method == "POST" and request.POST.get("method") == "password":
        password_form = PasswordSignInForm(request.POST, prefix="password")
        if password_form.is_valid():
            # The staff sign-in's lock-out (django-axes) guards this password too: the
            # same count of failures per address and e-mail address, the same pause.
            credentials = {"username": password_form.cleaned_data["email"]}
            if address_limit.blocked(request):
                request.alliance_address_blocked = True
                return locked_out(request, credentials=credentials)
            if not AxesProxyHandler.is_allowed(request, credentials):
                return locked_out(request, credentials=credentials)
            account = services.authenticate_client(password_form.cleaned_data["email"],
                                                   password_form.cleaned_data["password"])
            if account is not None:
                _sign_in(request, account)
                return redirect("portal:home")
            user_login_failed.send(sender=__name__, credentials=credentials, request=request)
            if getattr(request, "axes_locked_out", False):
                return locked_out(request, credentials=credentials)
            password_form.add_error(None, "That e-mail address and password do not match. "
                                          "You can also ask for a sign-in link instead.")
        status = 400
    return render(request, "portal/sign_in.html", {
        "link_form": link_form, "password_form": password_form,
        "minutes": services.link_minutes(),
    }, status=status)


@never_cache
def sign_in_sent(request):
    return render(request, "portal/sign_in_sent.html", {"minutes": services.link_minutes()})


def _link_problem(request, exc):
    if isinstance(exc, (services.LinkUsed, services.LinkExpired)):
        return render(request, "portal/link_expired.html",
                      {"used": isinstance(exc, services.LinkUsed)}, status=410)
    return render(request, "portal/link_not_found.html", status=404)


@never_cache
@csrf_protect
def sign_in_link(request, token):
    """Opening the link shows a button (mail scanners open links too); pressing it signs in."""
    try:
        if request.method == "POST":
            account = services.use_sign_in_link(token)
        else:
            link = services.open_sign_in_link(token)
    except (services.LinkNotFound, services.LinkUsed, services.LinkExpired) as exc:
        return _link_problem(request, exc)
    if request.method == "POST":
        _sign_in(request, account)
        return redirect("portal:home")
    return render(request, "portal/sign_in_link.html",
                  {"clinic": link.account.client.clinic})


class SetPasswordView(PasswordResetConfirmView):
    """Choosing a password from the invitation link (Django's one-time token, validators)."""

    template_name = "portal/set_password.html"
    form_class = ChoosePasswordForm
    post_reset_login = True
    post_reset_login_backend = BACKEND
    success_url = reverse_lazy("portal:home")

    def get_user(self, uidb64):
        user = super().get_user(uidb64)
        # Only client accounts of a clinic whose portal is on; a staff token is no use here.
        account = scoping.account_for(user) if user is not None else None
        if account is None or not services.portal_open(account.client.clinic):
            return None
        return user

    def form_valid(self, form):
        messages.success(self.request, _("Your password is set. Welcome."))
        return super().form_valid(form)


@require_POST
def sign_out(request):
    logout(request)
    messages.success(request, _("You are signed out. Take care."))
    return redirect("portal:sign_in")


@client_required
def password(request):
    """Choose a new password while signed in (e.g. after signing in with a link)."""
    form = ChoosePasswordForm(request.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        form.save()
        update_session_auth_hash(request, form.user)
        messages.success(request, _("Your new password is set."))
        return redirect("portal:home")
    return render(request, "portal/password.html", {"form": form})


# --------------------------------------------------------------------------- pages

def _page(request, template, context=None, status=200):
    account = request.portal_account
    case = (context or {}).get("case")
    if request.method == "GET" and case is not None:
        # The client reading their own record: one event per page, about the case shown.
        record(request, "read", case, detail=f"portal: {template.split('/')[-1][:-5]}")
    return render(request, template, {"account": account, "clinic": account.client.clinic,
                                      **(context or {})}, status=status)


@client_required
def home(request):
    account = request.portal_account
    case = scoping.current_case(account)
    feedback = list(scoping.feedback_of(account)[:3])
    discussed = services.discussed_subjects(feedback)
    return _page(request, "portal/home.html", {
        "case": case,
        "plan": _plan(account, case),
        "feedback": [(f, f.signal_subject in discussed) for f in feedback],
    })


def _plan(account, case):
    return portal_goals.client_plan(account, case) if case is not None else None


@client_required
def goals(request):
    account = request.portal_account
    case = scoping.current_case(account)
    return _page(request, "portal/goals.html", {
        "case": case, "plan": _plan(account, case), "form": GoalForm(),
    })


@client_required
def goal_new(request):
    account = request.portal_account
    case = scoping.current_case(account)
    if case is None or not case.is_active:
        raise Http404("No current case.")
    form = GoalForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portal_goals.propose(account, case, form.cleaned_data["text"])
        except DomainError as exc:
            form.add_error("text", str(exc))
        else:
            messages.success(request, _("Thank you. Your goal is on your list; your therapist "
                                        "will look at it with you."))
            return redirect("portal:goals")
    status = 400 if request.method == "POST" else 200
    return _page(request, "portal/goal_new.html", {"form": form}, status=status)


@client_required
@require_POST
def goal_confirm(request, pk):
    goal = scoping.get_goal_or_404(request.portal_account, pk)
    return act(request, lambda: portal_goals.confirm_goal(request.portal_account, goal),
               "Thank you. You have confirmed this goal.",
               reverse("portal:goals") + f"#goal-{goal.pk}")


@client_required
@require_POST
def task_confirm(request, pk):
    task = scoping.get_task_or_404(request.portal_account, pk)
    return act(request, lambda: portal_goals.confirm_task(request.portal_account, task),
               "Thank you. You have agreed to this task.",
               reverse("portal:goals") + f"#task-{task.pk}")


@client_required
def task_report(request, pk):
    task = scoping.get_task_or_404(request.portal_account, pk)
    form = TaskReportForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            portal_goals.report_task(request.portal_account, task,
                                     done=form.cleaned_data["done"],
                                     helpful=form.cleaned_data["helpful"])
        except DomainError as exc:
            form.add_error(None, str(exc))
        else:
            messages.success(request, _("Thank you for letting your therapist know."))
            return redirect(reverse("portal:goals") + f"#task-{task.pk}")
    status = 400 if request.method == "POST" else 200
    return _page(request, "portal/task_report.html", {"task": task, "form": form},
                 status=status)


@client_required
def feedback(request):
    account = request.portal_account
    case = scoping.current_case(account)
    form = FeedbackForm(request.POST or None)
    if request.method == "POST":
        if case is None:
            raise Http404("No current case.")
        if form.is_valid():
            try:
                feedback = services.leave_feedback(account, case, form.cleaned_data["text"])
            except DomainError as exc:
                form.add_error("text", str(exc))
            else:
                messages.success(request, _("Thank you. Your message has gone to your "
                                            "therapist."))
                if getattr(feedback, "risk_alert", None) is not None:
                    request.session[CRISIS_KEY] = True
                return redirect("portal:feedback")
    sent = list(scoping.feedback_of(account)[:20])
    discussed = services.discussed_subjects(sent)
    status = 400 if request.method == "POST" else 200
    return _page(request, "portal/feedback.html", {
        "case": case, "form": form,
        "crisis_text": (safety.crisis_text(account.client.clinic)
                        if request.session.pop(CRISIS_KEY, False) else ""),
        "sent": [(f, f.signal_subject in discussed) for f in sent],
    }, status=status)


@client_required
def intake(request):
    """The client's intake answers, to see and change (the same questions as the check-in's
    first sessions; every question optional)."""
    account = request.portal_account
    case = scoping.current_case(account)
    if request.method == "POST" and case is None:
        raise Http404("No current case.")
    current = intake_services.current(case) if case is not None else None
    form = IntakeForm(request.POST or None, initial=intake_services.initial(current))
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            stored = intake_services.update(case, form.cleaned_answers())
            record(request, "update", stored, detail="portal: intake answers")
        messages.success(request, _("Thank you. Your answers have gone to your therapist."))
        if stored.risk_alerts:
            request.session[CRISIS_KEY] = True
        return redirect("portal:intake")
    status = 400 if request.method == "POST" else 200
    return _page(request, "portal/intake.html", {
        "case": case, "form": form, "intake": current,
        "crisis_text": (safety.crisis_text(account.client.clinic)
                        if request.session.pop(CRISIS_KEY, False) else ""),
    }, status=status)


@client_required
def progress_page(request):
    account = request.portal_account
    case = scoping.current_case(account)
    series = progress.client_series(case) if case is not None else None
    clinic = account.client.clinic
    return _page(request, "portal/progress.html", {
        "case": case, "series": series,
        "measures": series.measures if series else None,
        "words": progress.in_words(series) if series else None,
        "show_alliance": progress.shows_alliance(clinic),
    })


@client_required
@require_GET
def progress_chart(request, pk, chart):
    """The client's own chart as SVG (another client's case answers 404).

    Not recorded: the chart is part of the progress page, whose view recorded the read
    (one page view, one event, as for the staff case page's charts)."""
    case = scoping.get_case_or_404(request.portal_account, pk)
    if chart not in progress.CHARTS:  # pragma: no cover - the URL patterns name only these
        raise Http404("No such chart.")
    if chart == "alliance" and not progress.shows_alliance(case.client.clinic):
        raise Http404("No such chart.")
    series = progress.client_series(case)
    svg = progress.chart_svg(series, chart, narrow=request.GET.get("size") == "narrow")
    response = HttpResponse(svg, content_type="image/svg+xml; charset=utf-8")
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = CHART_POLICY
    return response
