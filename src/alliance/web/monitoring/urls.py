from django.urls import path

from alliance.web.monitoring import views

app_name = "monitoring"

urlpatterns = [
    path("cases/<int:pk>/signals/<int:signal_pk>/acknowledge/", views.acknowledge,
         name="acknowledge"),
    path("cases/<int:pk>/signals/<int:signal_pk>/dismiss/", views.dismiss, name="dismiss"),
    path("cases/<int:pk>/signals/<int:signal_pk>/reopen/", views.reopen, name="reopen"),
    path("cases/<int:pk>/signals/<int:signal_pk>/repair/", views.repair, name="repair"),
    path("supervision/", views.supervision, name="supervision"),
    path("reports/signals/", views.report, name="report"),
]
