"""Resident-side URLs of the assisted booking (`/assisted/`): no staff login, see the views."""

from __future__ import annotations

from django.urls import path

from reset import assisted_views

app_name = "assisted"
urlpatterns = [
    path("", assisted_views.join, name="join"),
    path("complete/", assisted_views.complete, name="complete"),
]
