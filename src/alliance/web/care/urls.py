from django.urls import path

from alliance.web.care import views
from alliance.web.checkins import staff_views

app_name = "care"

urlpatterns = [
    path("cases/", views.caseload, name="caseload"),
    path("clients/new/", views.client_new, name="client_new"),
    path("help/how-alliance-works/", views.how_it_works, name="how_it_works"),
    path("cases/ended/", views.ended_cases, name="ended"),
    path("cases/<int:pk>/", views.case_detail, name="case"),
    path("cases/<int:pk>/end/", views.case_end, name="case_end"),
    path("cases/<int:pk>/reopen/", views.case_reopen, name="case_reopen"),
    path("cases/<int:pk>/client-name/", views.client_rename, name="client_name"),
    path("cases/<int:pk>/charts/alliance.svg", views.case_chart, {"chart": "alliance"},
         name="alliance_chart"),
    path("cases/<int:pk>/charts/wellbeing.svg", views.case_chart, {"chart": "wellbeing"},
         name="wellbeing_chart"),
    path("cases/<int:pk>/sessions/new/", views.session_new, name="session_new"),
    path("cases/<int:pk>/sessions/<int:number>/", views.session_detail, name="session"),
    path("cases/<int:pk>/sessions/<int:number>/link/", staff_views.link_create,
         name="checkin_link"),
    path("cases/<int:pk>/sessions/<int:number>/in-room/", staff_views.in_room,
         name="checkin_in_room"),
    path("cases/<int:pk>/sessions/<int:number>/therapist-form/", staff_views.therapist_form,
         name="therapist_form"),
]
