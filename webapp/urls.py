"""Top-level URL map."""

from __future__ import annotations

from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("kiosk/", include("kiosk.urls")),
    path("", include("reset.urls")),
]
