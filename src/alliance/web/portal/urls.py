from django.urls import path

from alliance.web.portal import staff_views, views

app_name = "portal"

urlpatterns = [
    # The client's own pages.
    path("portal/", views.home, name="home"),
    path("portal/sign-in/", views.sign_in, name="sign_in"),
    path("portal/sign-in/sent/", views.sign_in_sent, name="sign_in_sent"),
    path("portal/sign-in/<str:token>/", views.sign_in_link, name="sign_in_link"),
    path("portal/welcome/<uidb64>/<token>/", views.SetPasswordView.as_view(),
         name="set_password"),
    path("portal/sign-out/", views.sign_out, name="sign_out"),
    path("portal/password/", views.password, name="password"),
    path("portal/goals/", views.goals, name="goals"),
    path("portal/goals/new/", views.goal_new, name="goal_new"),
    path("portal/goals/<int:pk>/confirm/", views.goal_confirm, name="goal_confirm"),
    path("portal/tasks/<int:pk>/confirm/", views.task_confirm, name="task_confirm"),
    path("portal/tasks/<int:pk>/report/", views.task_report, name="task_report"),
    path("portal/feedback/", views.feedback, name="feedback"),
    path("portal/intake/", views.intake, name="intake"),
    path("portal/progress/", views.progress_page, name="progress"),
    path("portal/progress/<int:pk>/wellbeing.svg", views.progress_chart,
         {"chart": "wellbeing"}, name="wellbeing_chart"),
    path("portal/progress/<int:pk>/alliance.svg", views.progress_chart,
         {"chart": "alliance"}, name="alliance_chart"),
    # The therapist's side, from the case page.
    path("cases/<int:pk>/portal/invite/", staff_views.invite, name="invite"),
    path("cases/<int:pk>/portal/remove/", staff_views.remove, name="remove"),
    path("cases/<int:pk>/signals/<int:signal_pk>/discussed/", staff_views.discussed,
         name="discussed"),
]
