"""Settings for bench/load.py: the site exactly as deployed, plus one bare view as the baseline.

The bare view goes through the same nginx, worker and middleware chain as every page, and does
nothing else, so "wizard page / bare view" isolates what the app's own work costs.
"""

from __future__ import annotations

from webapp.settings import *  # noqa: F403 - the deployed settings, unchanged but for the URLs

ROOT_URLCONF = "bench.load_urls"
