from django.urls import path

from alliance.web.reports import views

app_name = "reports"

urlpatterns = [
    path("cases/<int:pk>/report.pdf", views.case_pdf, {"variant": "record"}, name="case"),
    path("cases/<int:pk>/report-for-client.pdf", views.case_pdf, {"variant": "client"},
         name="case_for_client"),
    path("reports/clinic.pdf", views.clinic_pdf, name="clinic"),
]
