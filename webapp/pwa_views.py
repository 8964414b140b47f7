"""PWA plumbing for the whole site: the service worker at the root, the manifest, the offline page.

Routed by webapp/urls.py under the ``pwa`` namespace (the service worker must sit at the site root
so that its scope covers every page, not only the wizard).
"""

from __future__ import annotations

import logging

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET

logger = logging.getLogger(__name__)

#: Bump when the shell changes so old caches are dropped on activation.
CACHE_VERSION = "myna-reset-shell-v2"

SHELL_STATIC = (
    "css/site.css",
    "reset/wizard.css",
    "reset/wizard.js",
    "reset/bridge-client.js",
    "reset/card-face.js",
    "reset/pwa.js",
    "reset/chip-photo-hygiene.js",
    "reset/display-mode.js",
    "icons/icon-192.png",
    "icons/icon-512.png",
)


@require_GET
@cache_control(no_cache=True)
def service_worker(request: HttpRequest) -> HttpResponse:
    """Served from / (not /static/) so its scope can cover the whole site."""
    response = render(
        request,
        "pwa/sw.js",
        {
            "cache_version": CACHE_VERSION,
            "shell": [static(path) for path in SHELL_STATIC]
            + [reverse("pwa:offline"), reverse("pwa:manifest")],
            "offline_url": reverse("pwa:offline"),
        },
        content_type="text/javascript; charset=utf-8",
    )
    response["Service-Worker-Allowed"] = "/"
    return response


@require_GET
@cache_control(max_age=3600)
def manifest(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "pwa/manifest.webmanifest",
        {
            "icon_192": static("icons/icon-192.png"),
            "icon_512": static("icons/icon-512.png"),
            "icon_maskable": static("icons/icon-maskable-512.png"),
            "start_url": reverse("reset:home"),
        },
        content_type="application/manifest+json",
    )


@require_GET
def offline(request: HttpRequest) -> HttpResponse:
    return render(request, "pwa/offline.html")
