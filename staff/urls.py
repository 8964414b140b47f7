"""Staff console URLs (every one but login/logout is guarded by staff/access.py)."""

from __future__ import annotations

from django.urls import path

from staff import views

app_name = "staff"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
]

#: Pages anyone may open (the permission tests enumerate every other pattern).
PUBLIC_URL_NAMES = frozenset({"login", "logout"})
