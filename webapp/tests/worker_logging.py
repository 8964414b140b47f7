"""A face worker's logging for tests: imported in the spawned worker processes, so it imports
nothing that needs Django's apps (the test modules themselves do)."""

from __future__ import annotations

import logging
import os

from webapp import logs

LOG_ENV = "MYNA_TEST_WORKER_LOG"


def copy_to_file() -> None:
    """The server's own set-up (webapp.logs), plus a copy of every line in the file named by
    $MYNA_TEST_WORKER_LOG, formatted and filtered as the console is."""
    logs.configure_worker_process()
    console = logging.getLogger().handlers[0]
    copy = logging.FileHandler(os.environ[LOG_ENV], encoding="utf-8")
    copy.setFormatter(console.formatter)
    for found in console.filters:
        copy.addFilter(found)
    logging.getLogger().addHandler(copy)
    logging.getLogger().setLevel(logging.INFO)
