from django.urls import path

from alliance.web.practice import views

app_name = "practice"

urlpatterns = [
    path("practice/", views.mine, name="mine"),
    path("practice/clinic/", views.clinic, name="clinic"),
    path("practice/<int:pk>/", views.therapist, name="therapist"),
    path("practice/<int:pk>/focus/", views.start_focus, name="start_focus"),
    path("practice/<int:pk>/focus/<int:focus_pk>/end/", views.end_focus, name="end_focus"),
]
