"""A URLconf holding only the card-face view, so its tests do not depend on the wizard's."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import path

from reset.cardface_view import read_card_burst, read_card_front


async def wrapped(request: HttpRequest) -> HttpResponse:
    """A careless router: not csrf_exempt, so the middleware parses the upload first."""
    return await read_card_front(request)


urlpatterns = [
    path("reset/cardface/", read_card_front),
    path("reset/cardface/burst/", read_card_burst),
    path("wrapped/cardface/", wrapped),
]
