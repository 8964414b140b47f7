"""Real concurrency against the database: racers in threads, each on its own connection.

Shared by the race tests of the nonce store and the attempt limits. They run on PostgreSQL
(`-m backends`, scripts/test.sh), where rows are locked one by one as in production.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import TypeVar

import pytest
from django.db import connection

T = TypeVar("T")


def require_postgres() -> None:
    """Skip the calling test unless the test database is PostgreSQL."""
    # SQLite serialises writers on a database-wide lock; its in-memory test database answers a
    # concurrent writer with "database table is locked" instead of waiting, so a race there
    # measures the lock, not the code under test. Production runs PostgreSQL.
    if connection.vendor != "postgresql":
        pytest.skip("the race runs on PostgreSQL (scripts/test.sh, -m backends)")


def race(work: Callable[[], T], threads: int = 2) -> list[T | BaseException]:
    """Run `work` in `threads` real threads at once, each on its own database connection."""
    return race_each([work] * threads)


def race_each(works: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run each of `works` in its own thread, all released together; results in that order."""
    results: dict[int, T | BaseException] = {}
    start = threading.Barrier(len(works))

    def run(index: int) -> None:
        from django.db import connection as own

        try:
            start.wait(timeout=10)
            results[index] = works[index]()
        except BaseException as exc:  # reported to the test, not swallowed
            results[index] = exc
        finally:
            own.close()

    workers = [threading.Thread(target=run, args=(i,)) for i in range(len(works))]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert not any(worker.is_alive() for worker in workers)
    return [results[i] for i in range(len(works))]
