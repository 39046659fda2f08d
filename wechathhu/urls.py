"""URL map.

* The mini-program contract lives at the site root, exactly where the existing client calls it.
* The message-center contract lives under ``/api/v1/``.
* The OpenAPI schema is at ``/api/schema/`` with Swagger UI at ``/api/docs/``.
* The H5 portal's pages live under ``/m/``; a browser asking for the site root is sent there.
"""

from django.conf import settings
from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.http import Http404
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from accounts.login_forms import AdminLoginForm, ApiAuthLoginForm
from wechathhu.api.views import ApiRootView, HealthView, PingView
from wechathhu.views import bench_ceiling

admin.site.site_header = "HHU计信院教师微服务"
admin.site.site_title = "HHU计信院教师微服务"
admin.site.index_title = "后台管理"
# Every password check goes through the login service (limits per address and per account).
admin.site.login_form = AdminLoginForm


def api_auth_enabled(view):
    """The browsable API's login pages answer only with ``API_AUTH_ENABLED`` (off in production
    unless enabled), checked per request."""

    def wrapped(request, *args, **kwargs):
        if not settings.API_AUTH_ENABLED:
            raise Http404
        return view(request, *args, **kwargs)

    return wrapped


# DRF's own rest_framework.urls, with the login form that checks passwords through the service.
api_auth_urls = (
    [
        path(
            "login/",
            api_auth_enabled(
                auth_views.LoginView.as_view(
                    template_name="rest_framework/login.html", authentication_form=ApiAuthLoginForm
                )
            ),
            name="login",
        ),
        path("logout/", api_auth_enabled(auth_views.LogoutView.as_view()), name="logout"),
    ],
    "rest_framework",
)

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="redoc"),
    path("api-auth/", include(api_auth_urls)),
    path("health/", HealthView.as_view(), name="health"),
    # The H5 portal for students and teachers (a browser at the site root is sent there).
    path("m/", include("portal.urls")),
    # Message-center contract (seed 001) and its extensions.
    path("api/v1/ping", PingView.as_view(), name="ping"),
    path("bench/ceiling", bench_ceiling, name="bench-ceiling"),
    path("api/v1/", include("messaging.api.urls")),
    path("api/v1/", include("accounts.api.urls_v1")),
    path("api/v1/", include("conversations.api.urls")),
    # The WeChat official account: its webhook and the page login (/wechat/…).
    path("", include("official.api.urls")),
    # Mini-program contract, at the root.
    path("", include("accounts.api.urls")),
    path("", include("conversations.api.urls_root")),
    path("", include("reservations.api.urls")),
    path("", include("activities.api.urls")),
    path("", include("repairs.api.urls")),
    path("", include("guides.api.urls")),
    path("", ApiRootView.as_view(), name="api-root"),
]

handler404 = "portal.views.errors.page_not_found"
handler403 = "portal.views.errors.permission_denied"

if settings.DEBUG:
    # Static files for the admin when running `manage.py runserver` without collectstatic.
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
