from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from outreach.views import unsubscribe
from outreach.webhooks import authenticated_anymail_urls

# Each app owns its API routes in its own urls.py; they all live under /api/v1/.
API_APPS = ["campaigns", "strategy", "creative", "leads", "outreach", "reporting"]

urlpatterns = [
    path("admin/", admin.site.urls),
    # ESP tracking and inbound webhooks (anymail's URLs for every ESP it supports), refused with
    # DEBUG off until their secret and signing key are configured (outreach/webhook_auth.py)
    path("anymail/", include(authenticated_anymail_urls())),
    path("u/<str:token>/", unsubscribe, name="unsubscribe"),
    *[path("api/v1/", include(f"{app}.urls")) for app in API_APPS],
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("api/redoc/", SpectacularRedocView.as_view(url_name="schema"), name="api-redoc"),
]
