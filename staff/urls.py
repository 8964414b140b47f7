"""Staff console URLs (every one but login/logout is guarded by staff/access.py)."""

from __future__ import annotations

from django.urls import path

from staff import assisted_views, audit_views, counter_reset_views, counter_views, views

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
    path("assisted/", assisted_views.start, name="assisted_start"),
    path("assisted/new/", assisted_views.open_session, name="assisted_new"),
    path("assisted/<uuid:public_id>/", assisted_views.console, name="assisted_console"),
    path(
        "assisted/<uuid:public_id>/in-person/", assisted_views.in_person, name="assisted_in_person"
    ),
    path("assisted/<uuid:public_id>/end/", assisted_views.end, name="assisted_end"),
]

#: Pages anyone may open (the permission tests enumerate every other pattern).
PUBLIC_URL_NAMES = frozenset({"login", "logout"})
