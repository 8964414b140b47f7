"""tests/serve_stack.py's ports: free ones the kernel picks, or a range of one's own
(STACK_PORT_RANGE)."""

from __future__ import annotations

import contextlib
import socket

import pytest

from tests import serve_stack


def test_ports_stay_in_the_range_and_are_never_handed_out_twice(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("STACK_PORT_RANGE", "8690-8699")
    monkeypatch.setattr(serve_stack, "_handed_out", set())
    with socket.socket() as taken:  # someone else's port inside the range
        with contextlib.suppress(OSError):  # already someone else's: as good
            taken.bind(("127.0.0.1", 8690))
        first = serve_stack.free_ports(3)
        second = serve_stack.free_ports(3)
    runs = [set(range(first, first + 3)), set(range(second, second + 3))]
    assert all(run <= set(range(8691, 8700)) for run in runs)
    assert not runs[0] & runs[1]


def test_a_range_too_small_or_malformed_is_said_so(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(serve_stack, "_handed_out", set())
    monkeypatch.setenv("STACK_PORT_RANGE", "8698-8699")
    with pytest.raises(RuntimeError, match="no run of 3 free loopback port"):
        serve_stack.free_ports(3)
    monkeypatch.setenv("STACK_PORT_RANGE", "86OO-8699")
    with pytest.raises(ValueError, match="must look like 8600-8699"):
        serve_stack.free_ports(1)


def test_without_a_range_the_kernel_picks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("STACK_PORT_RANGE", raising=False)
    port = serve_stack.free_ports(2)
    with socket.socket() as one, socket.socket() as two:
        one.bind(("127.0.0.1", port))
        two.bind(("127.0.0.1", port + 1))
