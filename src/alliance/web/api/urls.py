"""The REST API under /api/ (namespace "api") and its token page under /clinic/api-tokens/
(namespace "api_tokens"). The API's URLs are covered by tests/web/test_api_access.py."""

from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularJSONAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from alliance.web.api import errors, pages, views

router = SimpleRouter(trailing_slash="/?")
router.register("clients", views.ClientViewSet, basename="client")
router.register("cases", views.CaseViewSet, basename="case")
router.register("sessions", views.SessionViewSet, basename="session")
router.register("administrations", views.AdministrationViewSet, basename="administration")
router.register("signals", views.SignalViewSet, basename="signal")
router.register("goals", views.GoalViewSet, basename="goal")
router.register("tasks", views.TaskViewSet, basename="task")

api = [
    path("schema/", SpectacularJSONAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(
        url_name="api:schema", template_name="api/swagger_ui.html"), name="docs"),
    *router.urls,
    # Anything else under /api/ answers in JSON too.
    re_path(r"^.*$", errors.not_found, name="not_found"),
]

token_pages = [
    path("", pages.token_list, name="list"),
    path("<int:pk>/revoke/", pages.token_revoke, name="revoke"),
]

urlpatterns = [
    path("api/", include((api, "api"))),
    path("clinic/api-tokens/", include((token_pages, "api_tokens"))),
]
