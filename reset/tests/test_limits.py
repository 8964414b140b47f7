"""Attempt limits; marked `backends` so they also run on PostgreSQL (scripts/test.sh)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any

import pytest
from django.db import connection

from reset.limits import Limit, consume, prune, remaining, session_key_hash, window_end
from reset.models import AttemptCounter
from reset.tests.races import race, race_each, require_postgres

pytestmark = [pytest.mark.django_db, pytest.mark.backends]

NOW = datetime(2026, 11, 27, 3, 0, 10, tzinfo=UTC)
FACE = Limit(kind="face_card", attempts=3, window=3600)


def test_it_allows_up_to_the_limit_then_refuses() -> None:
    results = [consume(FACE, "card-a", now=NOW) for _ in range(5)]
    assert results == [True, True, True, False, False]
    assert remaining(FACE, "card-a", now=NOW) == 0


def test_it_counts_keys_and_kinds_separately() -> None:
    other_kind = Limit(kind="face_session", attempts=3, window=3600)
    for _ in range(3):
        consume(FACE, "card-a", now=NOW)
    assert consume(FACE, "card-b", now=NOW) is True
    assert consume(other_kind, "card-a", now=NOW) is True


def test_a_new_window_starts_a_new_count() -> None:
    for _ in range(3):
        consume(FACE, "card-a", now=NOW)
    assert consume(FACE, "card-a", now=NOW + timedelta(hours=1)) is True


def test_prune_drops_old_windows_only() -> None:
    consume(FACE, "old", now=NOW - timedelta(days=3))
    consume(FACE, "new", now=NOW)
    assert prune(now=NOW) == 1
    assert list(AttemptCounter.objects.values_list("key", flat=True)) == ["new"]


def test_session_keys_are_stored_only_as_hashes() -> None:
    key = session_key_hash("abcdef0123456789")
    consume(FACE, key, now=NOW)
    stored = AttemptCounter.objects.get().key
    assert "abcdef0123456789" not in stored and len(stored) == 64


def test_the_window_end_is_when_a_refused_key_may_try_again() -> None:
    limit = Limit("test_end", 1, 3600)
    now = datetime(2026, 1, 1, 10, 20, tzinfo=UTC)
    assert window_end(limit, now=now) == datetime(2026, 1, 1, 11, 0, tzinfo=UTC)
    assert consume(limit, "k", now=now)
    assert not consume(limit, "k", now=now)
    assert consume(limit, "k", now=window_end(limit, now=now))


# ---------------------------------------------------------------- concurrency


@pytest.mark.django_db(transaction=True)
def test_a_first_attempt_is_not_refused_by_the_window_row_another_request_just_made() -> None:
    """Two requests open a new window at once. The first stalls after its first statement on the
    counters (a busy worker) while the second counts its attempt and commits. A count-then-look
    `consume` (UPDATE, then EXISTS) saw the second one's new row and refused the first although
    two of three tries were left; one conditional statement counts both."""
    require_postgres()
    limit = Limit("race_window", 3, 3600)
    first_stalled, second_done = threading.Event(), threading.Event()

    def stall_after_first_statement(execute: Any, sql: str, *args: Any) -> Any:
        result = execute(sql, *args)
        if not first_stalled.is_set():
            first_stalled.set()
            # Until the other request is through, or 2 s if it waits for this one (a lock).
            second_done.wait(timeout=2)
        return result

    def stalled() -> bool:
        with connection.execute_wrapper(stall_after_first_statement):
            return consume(limit, "card-a", now=NOW)

    def quick() -> bool:
        first_stalled.wait(timeout=10)
        try:
            return consume(limit, "card-a", now=NOW)
        finally:
            second_done.set()

    assert race_each([stalled, quick]) == [True, True]
    assert remaining(limit, "card-a", now=NOW) == 1


@pytest.mark.django_db(transaction=True)
def test_racing_attempts_in_a_new_window_are_counted_once_each_up_to_the_limit() -> None:
    require_postgres()
    limit = Limit("race_many", 3, 3600)
    for round_ in range(8):
        key = f"card-{round_}"
        results = race(partial(consume, limit, key, now=NOW), threads=6)
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert results.count(True) == 3, results
        assert AttemptCounter.objects.get(kind=limit.kind, key=key).count == 3
