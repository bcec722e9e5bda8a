from django.urls import path

from alliance.web.privacy import views

app_name = "privacy"

urlpatterns = [
    path("clients/<int:pk>/privacy/", views.client_privacy, name="client"),
    path("clients/<int:pk>/privacy/export.json", views.client_export, name="export"),
    path("clients/<int:pk>/privacy/erase/", views.client_erase, name="erase"),
]
