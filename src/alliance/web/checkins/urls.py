from django.urls import path

from alliance.web.checkins import views

app_name = "checkins"

# Public pages for clients: the URL holds only the random token, nothing about the person.
urlpatterns = [
    path("c/thanks/", views.thanks, name="thanks"),
    path("c/<slug:token>/", views.checkin_form, name="form"),
]
