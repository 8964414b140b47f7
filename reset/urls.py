"""Resident wizard URLs."""

from __future__ import annotations

from django.urls import path

from reset import views

app_name = "reset"
urlpatterns = [
    path("", views.home, name="home"),
]
