"""Top-level URL map."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

from webapp import pwa_views

#: Site-wide PWA files; the service worker sits at the root so its scope is the whole site.
pwa_patterns = [
    path("sw.js", pwa_views.service_worker, name="service_worker"),
    path("manifest.webmanifest", pwa_views.manifest, name="manifest"),
    path("offline/", pwa_views.offline, name="offline"),
]

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("kiosk/", include("kiosk.urls")),
    path("staff/", include("staff.urls")),
    path("assisted/", include("reset.assisted_urls")),
    path("", include((pwa_patterns, "pwa"))),
    path("", include("reset.urls")),
]

#: Resident-facing error pages in Japanese / English, JSON for the card page (reset/error_views.py).
handler500 = "reset.error_views.server_error"
