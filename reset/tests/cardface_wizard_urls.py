"""The card-face view under the wizard's own name (`reset:cardface`) and nothing else.

For the browser test of a CSRF refusal: settings.CSRF_FAILURE_VIEW answers JSON for the wizard's
JSON endpoints, known by view name; the wizard's step check (reset/api_views.py `cardface`) is
tested with the view tests, and would need the database, which a Playwright test cannot use.
"""

from __future__ import annotations

from django.urls import include, path

from reset.cardface_view import read_card_front

wizard = ([path("reset/cardface/", read_card_front, name="cardface")], "reset")
urlpatterns = [path("", include(wizard))]
