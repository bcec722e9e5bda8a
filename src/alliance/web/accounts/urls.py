from django.urls import path

from alliance.web.accounts import views

app_name = "accounts"

urlpatterns = [
    path("two-factor/", views.two_factor_setup, name="two_factor_setup"),
    path("two-factor/verify/", views.two_factor_verify, name="two_factor_verify"),
    path("confirm-password/", views.reauth, name="reauth"),
    path("password/forgot/", views.password_forgot, name="password_forgot"),
    path("password/forgot/sent/", views.password_forgot_sent, name="password_forgot_sent"),
    path("password/reset/<uidb64>/<token>/", views.PasswordReset.as_view(),
         name="password_reset"),
    path("staff/<int:pk>/two-factor/reset/", views.staff_two_factor_reset,
         name="staff_two_factor_reset"),
]
