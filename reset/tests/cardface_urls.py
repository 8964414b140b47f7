"""A URLconf holding only the card-face view, so its tests do not depend on the wizard's."""

from __future__ import annotations

from django.urls import path

from reset.cardface.view import read_card_front

urlpatterns = [path("reset/cardface/", read_card_front)]
