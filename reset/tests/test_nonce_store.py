"""The nonce store (reset/nonces.py): bound to a session, single use even under concurrency."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from functools import partial
from io import StringIO
from typing import Any
from unittest.mock import patch

import pytest
from django.core.management import call_command
from django.db.models import QuerySet

from reset import nonces
from reset.limits import session_key_hash
from reset.models import ServerNonce
from reset.tests.races import race, require_postgres

pytestmark = [pytest.mark.backends]

SIGN = "myna-reset/reserve/sign"
AUTH = "myna-reset/reserve/auth"
MINE = session_key_hash("session-a-0123456789abcdef")
THEIRS = session_key_hash("session-b-0123456789abcdef")
OTHER = session_key_hash("session-c-0123456789abcdef")
NonceCheck = nonces.NonceCheck


@pytest.mark.django_db
def test_a_nonce_is_taken_once_then_refused_as_a_replay() -> None:
    value = nonces.issue(MINE, SIGN)
    assert nonces.take(MINE, value, SIGN) is NonceCheck.OK
    assert nonces.take(MINE, value, SIGN) is NonceCheck.UNKNOWN
    assert not ServerNonce.objects.exists()


@pytest.mark.django_db
def test_a_nonce_of_another_session_is_unknown_and_stays_usable_by_its_own() -> None:
    value = nonces.issue(THEIRS, SIGN)
    assert nonces.take(MINE, value, SIGN) is NonceCheck.UNKNOWN
    assert nonces.take(THEIRS, value, SIGN) is NonceCheck.OK


@pytest.mark.django_db
def test_a_nonce_for_another_purpose_is_refused_and_spent() -> None:
    value = nonces.issue(MINE, SIGN)
    assert nonces.take(MINE, value, AUTH) is NonceCheck.WRONG_PURPOSE
    assert nonces.take(MINE, value, SIGN) is NonceCheck.UNKNOWN


@pytest.mark.django_db
def test_a_nonce_past_its_lifetime_is_expired_and_spent() -> None:
    value = nonces.issue(MINE, SIGN, now=1000.0)
    assert nonces.take(MINE, value, SIGN, now=1000.0 + nonces.ttl_seconds()) is NonceCheck.EXPIRED
    assert nonces.take(MINE, value, SIGN, now=1000.0) is NonceCheck.UNKNOWN


@pytest.mark.django_db
def test_a_nonce_within_its_lifetime_is_accepted() -> None:
    value = nonces.issue(MINE, SIGN, now=1000.0)
    assert nonces.take(MINE, value, SIGN, now=1000.0 + nonces.ttl_seconds() - 1) is NonceCheck.OK


@pytest.mark.django_db
def test_a_session_keeps_at_most_max_outstanding_nonces_dropping_the_oldest() -> None:
    issued = [nonces.issue(MINE, SIGN, now=1000.0 + i) for i in range(nonces.MAX_OUTSTANDING + 1)]
    assert ServerNonce.objects.filter(session=MINE).count() == nonces.MAX_OUTSTANDING
    at = 1000.0 + nonces.MAX_OUTSTANDING
    assert nonces.take(MINE, issued[0], SIGN, now=at) is NonceCheck.UNKNOWN
    assert all(nonces.take(MINE, value, SIGN, now=at) is NonceCheck.OK for value in issued[1:])


@pytest.mark.django_db
def test_issuing_prunes_only_this_sessions_expired_nonces() -> None:
    nonces.issue(MINE, SIGN, now=1000.0)
    nonces.issue(THEIRS, SIGN, now=1000.0)
    nonces.issue(MINE, SIGN, now=1000.0 + nonces.ttl_seconds())
    assert ServerNonce.objects.filter(session=MINE).count() == 1
    assert ServerNonce.objects.filter(session=THEIRS).count() == 1


@pytest.mark.django_db
def test_clear_forgets_one_session_only() -> None:
    mine = nonces.issue(MINE, SIGN)
    theirs = nonces.issue(THEIRS, SIGN)
    nonces.clear(MINE)
    assert nonces.take(MINE, mine, SIGN) is NonceCheck.UNKNOWN
    assert nonces.take(THEIRS, theirs, SIGN) is NonceCheck.OK


@pytest.mark.django_db
def test_housekeeping_deletes_expired_nonces_of_every_session() -> None:
    nonces.issue(MINE, SIGN, now=1000.0)
    nonces.issue(THEIRS, AUTH, now=1000.0)
    fresh = nonces.issue(OTHER, SIGN)  # issuing prunes only OTHER's own expired nonces
    out = StringIO()
    call_command("reset_housekeeping", stdout=out)
    assert "deleted 2 expired nonce(s)" in out.getvalue()
    assert list(ServerNonce.objects.values_list("session", flat=True)) == [OTHER]
    assert nonces.take(OTHER, fresh, SIGN) is NonceCheck.OK


# ---------------------------------------------------------------- concurrency


@contextmanager
def both_read_before_either_deletes() -> Iterator[None]:
    """Force the worst interleaving: every racer has looked the nonce up before any deletes it.

    A check-then-delete that trusts its own look-up (as the session-held table did) lets both
    racers through here; a conditional delete lets only the one that removed the row through.
    A store that locks the row on look-up instead blocks its second racer before this point:
    the barrier then times out and the racers go on one after the other.
    """
    gate = threading.Barrier(2)
    original = QuerySet.delete

    def delete(self: QuerySet[Any]) -> tuple[int, dict[str, int]]:
        if self.model is ServerNonce:
            try:
                gate.wait(timeout=2)
            except threading.BrokenBarrierError:
                pass
        return original(self)

    with patch.object(QuerySet, "delete", delete):
        yield


@pytest.mark.django_db(transaction=True)
def test_two_racing_takes_of_one_nonce_let_exactly_one_through() -> None:
    require_postgres()
    value = nonces.issue(MINE, SIGN)
    with both_read_before_either_deletes():
        results = race(lambda: nonces.take(MINE, value, SIGN))
    assert sorted(map(str, results)) == sorted([str(NonceCheck.OK), str(NonceCheck.UNKNOWN)])
    assert not ServerNonce.objects.exists()


@pytest.mark.django_db(transaction=True)
def test_many_racing_takes_let_exactly_one_through_each_time() -> None:
    require_postgres()
    for _ in range(10):
        value = nonces.issue(MINE, SIGN)
        results = race(partial(nonces.take, MINE, value, SIGN), threads=4)
        assert [r for r in results if isinstance(r, BaseException)] == []
        assert results.count(NonceCheck.OK) == 1
        assert results.count(NonceCheck.UNKNOWN) == 3
