from django.urls import path

from alliance.web.safety import views

app_name = "safety"

urlpatterns = [
    path("clinic/safety/", views.clinic_safety, name="clinic"),
    path("reviews/<int:pk>/", views.alert, name="alert"),
]
