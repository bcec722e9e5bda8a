from django.urls import path

from alliance.web.goals import views

app_name = "goals"

urlpatterns = [
    path("cases/<int:pk>/goals/propose/", views.propose, name="propose"),
    path("cases/<int:pk>/goals/review-request/", views.request_review, name="request_review"),
    path("cases/<int:pk>/goals/<int:goal_pk>/confirm/", views.confirm, name="confirm"),
    path("cases/<int:pk>/goals/<int:goal_pk>/revise/", views.revise, name="revise"),
    path("cases/<int:pk>/goals/<int:goal_pk>/status/", views.status, name="status"),
    path("cases/<int:pk>/goals/<int:goal_pk>/rating/", views.rating, name="rating"),
    path("cases/<int:pk>/goals/<int:goal_pk>/tasks/propose/", views.task_propose,
         name="task_propose"),
    path("cases/<int:pk>/tasks/<int:task_pk>/confirm/", views.task_confirm, name="task_confirm"),
    path("cases/<int:pk>/tasks/<int:task_pk>/status/", views.task_status, name="task_status"),
]
