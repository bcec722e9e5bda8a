from django.urls import path

from alliance.web.outreach import views

app_name = "outreach"

urlpatterns = [
    path("clinic/measurement/", views.clinic_plan, name="plan"),
    path("cases/<int:pk>/check-ins/", views.case_outreach, name="case"),
    path("worklist/", views.worklist, name="worklist"),
    path("notices/", views.notices, name="notices"),
]
