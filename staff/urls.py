"""Staff console URLs (every one but login/logout is guarded by staff/access.py)."""

from __future__ import annotations

from django.urls import path

from staff import audit_views, counter_reset_views, counter_views, views

app_name = "staff"
urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.login, name="login"),
    path("logout/", views.logout, name="logout"),
    path("reservations/", counter_views.lookup, name="lookup"),
    path("reservations/<uuid:public_id>/", counter_views.reservation, name="reservation"),
    path("reservations/<uuid:public_id>/revoke/", counter_views.revoke, name="revoke"),
    path("audit/", audit_views.audit_log, name="audit"),
    path("audit/export.csv", audit_views.audit_csv, name="audit_csv"),
    path("counter-reset/", counter_reset_views.start, name="counter_reset"),
    path(
        "counter-reset/<uuid:public_id>/",
        counter_reset_views.progress,
        name="counter_reset_progress",
    ),
]

#: Pages anyone may open (the permission tests enumerate every other pattern).
PUBLIC_URL_NAMES = frozenset({"login", "logout"})
