"""Attempt limits; marked `backends` so they also run on PostgreSQL (scripts/test.sh)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from reset.limits import Limit, consume, prune, remaining, session_key_hash, window_end
from reset.models import AttemptCounter

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
