"""The consumers' one guard for a text message: an object, or None for anything else."""

from __future__ import annotations

import pytest

from webapp.socket_messages import json_object

DEEP = "[" * 5000 + "]" * 5000  # 10 kB: within every consumer's length limit


@pytest.mark.parametrize("text", [
    None, "", "{not json", "[]", '"a"', "12", "null", DEEP, '{"a":' * 5000 + "1" + "}" * 5000,
    '{"type": "cancel"} trailing',
])
def test_anything_but_one_object_is_none(text: str | None) -> None:
    assert json_object(text, max_chars=64 * 1024) is None


def test_an_object_is_returned_within_the_limit_and_refused_over_it() -> None:
    text = '{"type": "cancel", "n": [1, 2]}'
    assert json_object(text, max_chars=len(text)) == {"type": "cancel", "n": [1, 2]}
    assert json_object(text, max_chars=len(text) - 1) is None
