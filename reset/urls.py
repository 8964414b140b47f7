"""Resident wizard URLs (the PWA files are site-wide: webapp/urls.py)."""

from __future__ import annotations

from django.urls import path

from reset import api_views, helper_views, views

app_name = "reset"
urlpatterns = [
    path("", views.home, name="home"),
    path("guide/", views.guide, name="guide"),
    path("help/", views.help_page, name="help"),
    path("helper/<str:name>", helper_views.helper_download, name="helper_download"),
    path("reset/choose/", views.choose, name="choose"),
    path("reset/card/", views.card, name="card"),
    path("reset/cardface/", api_views.cardface, name="cardface"),
    path("reset/cardface/burst/", api_views.cardface_burst, name="cardface_burst"),
    path("reset/progress/", api_views.progress, name="progress"),
    path("reset/more-time/", api_views.more_time, name="more_time"),
    path("reset/tries/", api_views.tries, name="tries"),
    path("reset/nonce/", api_views.nonce, name="nonce"),
    path("reset/evidence/", api_views.evidence, name="evidence"),
    path("reset/face/", views.face, name="face"),
    path("reset/done/", views.done, name="done"),
    path("reset/cancel/", views.cancel, name="cancel"),
    path("reset/reservation/", views.reservation, name="reservation"),
    path("reset/reservation.ics", views.reservation_ics_view, name="reservation_ics"),
]
