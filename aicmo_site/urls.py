from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from outreach.views import unsubscribe
from outreach.webhooks import authenticated_anymail_urls

from .auth_api import ObtainTokenView
from .site_views import favicon

# Each app owns its API routes in its own urls.py; they all live under /api/v1/.
API_APPS = ["campaigns", "strategy", "creative", "leads", "outreach", "reporting", "webhooks", "deliverables"]

# The admin's "View site" link: the site has no public pages, so it opens the API docs (the root
# URL opens the admin).
admin.site.site_url = "/api/docs/"

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
    path("favicon.ico", favicon, name="favicon"),
    path("admin/", admin.site.urls),
    # ESP tracking and inbound webhooks (anymail's URLs for every ESP it supports), refused with
    # DEBUG off until their secret and signing key are configured (outreach/webhook_auth.py)
    path("anymail/", include(authenticated_anymail_urls())),
    path("u/<str:token>/", unsubscribe, name="unsubscribe"),
    # username + password -> API token (the one API endpoint without authentication)
    path("api/v1/auth/token/", ObtainTokenView.as_view(), name="api-token"),
    *[path("api/v1/", include(f"{app}.urls")) for app in API_APPS],
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
