from django.urls import path

from alliance.web.interop import views

app_name = "interop"

urlpatterns = [
    path("cases/<int:pk>/fhir.json", views.case_fhir, name="case_fhir"),
    path("clinic/import/", views.import_history, name="import_history"),
    path("clinic/import/help/", views.import_help, name="import_help"),
    path("clinic/research-export/", views.research_export, name="research_export"),
    path("clinic/research-export/<int:pk>/", views.export_job, name="export_job"),
    path("clinic/research-export/<int:pk>/download/", views.export_download,
         name="export_download"),
]
