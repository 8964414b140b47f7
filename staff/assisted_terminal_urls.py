"""Resident-side URLs of the assisted booking (`/assisted/`): no staff login, see the views."""

from __future__ import annotations

from django.urls import path

from staff import assisted_terminal_views

app_name = "assisted"
urlpatterns = [
    path("", assisted_terminal_views.join, name="join"),
    path("complete/", assisted_terminal_views.complete, name="complete"),
]
