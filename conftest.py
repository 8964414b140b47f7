"""Repository-wide pytest set-up."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

#: The read-only tests against a physical card (tests/test_physical_reader.py) run only when
#: asked for with ``--reader NAME``, as yubikit's device tests do (style.md, card protocol).
READER_OPTION = "--reader"
TESTS_DIR = Path(__file__).resolve().parent / "tests"


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        READER_OPTION,
        metavar="NAME",
        default=None,
        help="run the read-only card tests (marker 'reader': no VERIFY, no try spent) against "
        "the physical card in the PC/SC reader called NAME",
    )
    parser.addoption(
        SERIAL_GROUPS_OPTION,
        action="store_true",
        help="with -n: hand whole modules to a worker and run the face-check modules on one "
        "worker, one after the other (scripts/test.sh's serial pass)",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "reader: read-only test against the physical card named by --reader (skipped otherwise)",
    )
    config.addinivalue_line(
        "markers", "serial: set at collection; runs in the serial pass of scripts/test.sh"
    )


#: Markers of tests that own a process-wide resource (pcscd and its vpcd port, a Chromium stack,
#: the helper build folder): scripts/test.sh runs them in the serial pass, everything else on
#: several xdist workers.
SERIAL_MARKERS = ("browser", "pcsc", "helper_build")


#: The serial-pass modules that run a face check in Chromium against their own stack. Two such
#: checks at once on a two-core machine starve Chromium's fake camera until the liveness check
#: rightly calls the stream frozen (seen: reason=static, and a timeout), so they share one
#: scheduling group: one worker runs them one after the other while the other worker runs the
#: rest of the serial pass (scripts/test.sh).
FACE_CHECK_MODULES = (
    "tests/e2e/test_wizard_e2e.py",
    "tests/e2e/test_kiosk_e2e.py",
    "tests/e2e/test_assisted_e2e.py",
    "tests/e2e/test_interruptions_e2e.py",
    "tests/e2e/test_face_busy_e2e.py",
    "tests/test_deploy_stack.py",
)
FACE_CHECK_GROUP = "face-check stacks"
#: The modules that drive a pcscd with vpcd readers, or build and run the packaged helper. Each
#: worker has its own pcscd (tests/pcsc.py), yet the kiosk's slot-1 card once never showed up
#: when these modules were spread over two workers, so they keep the order and the single pcscd
#: they were written against: one group, one worker.
CARD_AND_HELPER_MODULES = (
    "tests/test_bridge_pcsc.py",
    "tests/test_counter_pcsc.py",
    "tests/test_kiosk_pcsc.py",
    "tests/test_pcsc_sim.py",
    "tests/test_reader_option.py",
    "tests/test_physical_reader.py",
    "tests/test_helper_package.py",
    "tests/e2e/test_helper_setup_e2e.py",
)
CARD_AND_HELPER_GROUP = "pcscd and helper"
SERIAL_GROUPS_OPTION = "--serial-groups"


def serial_scope(nodeid: str) -> str:
    """The scheduling group of a test id in the serial pass: its module, or one of the two
    groups above."""
    module = nodeid.split("::", 1)[0]
    if module in FACE_CHECK_MODULES:
        return FACE_CHECK_GROUP
    return CARD_AND_HELPER_GROUP if module in CARD_AND_HELPER_MODULES else module


class FaceChecksFirst(OrderedDict[str, Any]):
    """xdist's work queue of groups, with the face-check group handed out first: it is the
    longest group (over half the pass) though not the one with most tests, by which xdist
    orders the queue; started third, it kept one worker busy alone for minutes at the end."""

    def __setitem__(self, key: str, value: Any) -> None:
        super().__setitem__(key, value)
        if key == FACE_CHECK_GROUP:
            self.move_to_end(key, last=False)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """With --serial-groups, xdist hands out whole groups (serial_scope): a module's stack and
    browser start once, on one worker, and the face-check modules never run side by side.
    (Not xdist's own loadgroup: under pytest 9.2 it no longer sees a test's xdist_group.)"""
    if not config.getoption(SERIAL_GROUPS_OPTION):
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SerialGroupScheduling(LoadScopeScheduling):
        def __init__(self, config: pytest.Config, log: Any) -> None:
            super().__init__(config, log)
            self.workqueue = FaceChecksFirst()

        def _split_scope(self, nodeid: str) -> str:
            return serial_scope(nodeid)

    return SerialGroupScheduling(config, log)


def _mark_serial(items: list[pytest.Item]) -> None:
    serial = pytest.mark.serial
    for item in items:
        # tests/ holds the whole-stack tests (run script, deploy stack, pcscd, e2e).
        whole_stack = item.path.is_relative_to(TESTS_DIR)
        if whole_stack or any(item.get_closest_marker(m) for m in SERIAL_MARKERS):
            item.add_marker(serial)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    _mark_serial(items)
    if config.getoption(READER_OPTION):
        return
    skip = pytest.mark.skip(reason=f"needs a physical card: pass {READER_OPTION} NAME to run it")
    for item in items:
        # The marker itself, not item.keywords: a test id such as "reader" (a wizard step)
        # is a keyword too.
        if item.get_closest_marker("reader") is not None:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def reader_name(request: pytest.FixtureRequest) -> str:
    """The PC/SC reader named by --reader (tests using it are skipped without the option)."""
    name = request.config.getoption(READER_OPTION)
    if not name:
        pytest.skip(f"needs a physical card: pass {READER_OPTION} NAME to run it")
    return str(name)


@pytest.fixture(scope="session")
def built_helper() -> Any:
    """The standalone helper built from this tree, once per session (tests/helper_build.py)."""
    from tests.helper_build import build_helper

    return build_helper()


@pytest.fixture(scope="session")
def django_db_setup(django_db_setup: None, django_db_blocker: Any) -> Iterator[None]:
    """On PostgreSQL, end the connections that worker threads (consumers run database work in a
    thread pool) still hold, so the test database can be dropped at the end of the run."""
    yield
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    with django_db_blocker.unblock(), connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
            "WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )


def _cancel_until_done(loop: Any) -> None:
    """Cancel the tasks a test left running, again and again until they end, then hand over to
    asyncio's own clean-up (which cancels only once).

    A channels_redis receive cancelled at the instant its blocking BZPOPMIN read times out can
    lose the cancellation: redis-py answers the timeout as "no message", and channels_redis simply
    issues the next BZPOPMIN, forever (seen as a hung backends pass, 1 run in 10 of the counter
    consumer tests: the task stays "cancelling" inside the read). One more cancel ends it.
    """
    import asyncio

    pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
    for _ in range(40):
        if not pending:
            break
        for task in pending:
            task.cancel()
        loop.run_until_complete(asyncio.wait(pending, timeout=0.5))
        pending = [t for t in pending if not t.done()]
    _asyncio_cancel_all_tasks(loop)


def _patch_asyncio_runner_teardown() -> Any:
    import asyncio.runners

    original = asyncio.runners._cancel_all_tasks  # type: ignore[attr-defined]
    asyncio.runners._cancel_all_tasks = _cancel_until_done  # type: ignore[attr-defined]
    return original


_asyncio_cancel_all_tasks = _patch_asyncio_runner_teardown()


@pytest.fixture(autouse=True)
def _channel_layer_per_test() -> Iterator[None]:
    """A fresh channel layer for every test, as each async test runs on its own event loop.

    channels_redis keeps asyncio locks on the layer (the clean locks of the process's one
    "specific." channel); one still held by a cleaner task of a closed loop made the next test's
    receive fail with "bound to a different event loop", or wait forever. A server has one loop
    for its whole life and never meets this.
    """
    from channels.layers import channel_layers

    channel_layers.backends.clear()
    yield
