"""URL configuration. Every URL here has a row in tests/web/test_access_matrix.py."""

from django.contrib.auth import views as auth_views
from django.urls import include, path, reverse_lazy

from alliance.web import views
from alliance.web.clinics.forms import LoginForm
from alliance.web.accounts import views as accounts_views
from alliance.web.forms import SetPassword

urlpatterns = [
    path("", views.home, name="home"),
    # The language switcher of the client pages (alliance.web.languages).
    path("language/", views.set_language, name="set_language"),
    # Staff sign in with Django's own authentication views; a hardening layer can replace
    # the login view (e.g. to add a second factor) here.
    path("login/", auth_views.LoginView.as_view(
        authentication_form=LoginForm, redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("password/set/<uidb64>/<token>/", auth_views.PasswordResetConfirmView.as_view(
        template_name="registration/set_password.html", form_class=SetPassword,
        success_url=reverse_lazy("password_set_done")), name="password_set"),
    path("password/set/done/", auth_views.PasswordResetCompleteView.as_view(
        template_name="registration/set_password_done.html"), name="password_set_done"),
    # After the password again (within 5 minutes); signs out the user's other devices.
    path("password/change/", accounts_views.password_change, name="password_change"),
    path("password/change/done/", auth_views.PasswordChangeDoneView.as_view(),
         name="password_change_done"),
    # Two-factor sign-in, the password again, forgotten passwords (alliance.web.accounts).
    path("account/", include("alliance.web.accounts.urls")),
    path("", include("alliance.web.care.urls")),
    path("", include("alliance.web.checkins.urls")),
    path("clinic/", include("alliance.web.clinics.urls")),
    path("clinic/audit/", include("alliance.web.audit.urls")),
    path("", include("alliance.web.monitoring.urls")),
    path("", include("alliance.web.goals.urls")),
    path("", include("alliance.web.portal.urls")),
    path("", include("alliance.web.privacy.urls")),
    path("", include("alliance.web.reports.urls")),
    path("", include("alliance.web.interop.urls")),
    path("", include("alliance.web.api.urls")),
    path("", include("alliance.web.practice.urls")),
    path("", include("alliance.web.outreach.urls")),
    path("", include("alliance.web.safety.urls")),
]
