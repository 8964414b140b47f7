"""The production backends, for real: PostgreSQL through the ORM and Redis as the channel layer.

scripts/test.sh runs every `backends` test a second time with DB_ENGINE=postgres and REDIS_URL
set; these tests check that the run really is on those services rather than silently on the
embedded defaults.
"""

from __future__ import annotations

import os

import pytest
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection

pytestmark = pytest.mark.backends


@pytest.mark.django_db
def test_database_is_the_configured_engine() -> None:
    expected = "postgresql" if os.environ.get("DB_ENGINE") == "postgres" else "sqlite"
    assert connection.vendor == expected
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        assert cursor.fetchone() == (1,)


async def test_channel_layer_delivers_to_a_group() -> None:
    layer = get_channel_layer()
    assert layer is not None
    expected = "RedisChannelLayer" if settings.REDIS_URL else "InMemoryChannelLayer"
    assert type(layer).__name__ == expected
    channel = await layer.new_channel()
    await layer.group_add("staff-terminal-7", channel)
    await layer.group_send("staff-terminal-7", {"type": "progress.update", "step": "face"})
    message = await layer.receive(channel)
    assert message == {"type": "progress.update", "step": "face"}
    await layer.group_discard("staff-terminal-7", channel)
    if hasattr(layer, "flush"):
        await layer.flush()


async def test_an_idle_consumer_outlives_the_layers_blocking_pop() -> None:
    """A receive that waits longer than channels_redis's 5 s blocking pop must keep waiting, not
    die of the Redis client's socket read timeout (webapp/settings.py, CHANNEL_LAYERS)."""
    import asyncio

    layer = get_channel_layer()
    assert layer is not None
    channel = await layer.new_channel()
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(layer.receive(channel), timeout=7)
    # Still usable afterwards.
    await layer.send(channel, {"type": "still.here"})
    assert await asyncio.wait_for(layer.receive(channel), timeout=7) == {"type": "still.here"}
    if hasattr(layer, "flush"):
        await layer.flush()
