"""static/reset/card-face.js under Node: 西暦/和暦 parsing, validation and password formats.

These rules run only in the browser (the values never reach the server), so they are tested
where they run: the same ES module, imported by Node.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.prerequisites import skip_or_fail

MODULE = Path(__file__).resolve().parents[2] / "static" / "reset" / "card-face.js"


def run(expression: str) -> Any:
    node = shutil.which("node")
    if node is None:
        skip_or_fail("node is not installed", what="the page-module tests")
    script = (
        f"import * as m from {json.dumps(MODULE.as_uri())};\n"
        f"const now = new Date('2026-11-27T00:00:00Z');\n"
        f"console.log(JSON.stringify({expression}));\n"
    )
    out = subprocess.run(
        [node, "--input-type=module", "-e", script], capture_output=True, text=True, check=True
    )
    return json.loads(out.stdout)


@pytest.mark.parametrize(
    "text",
    ["1985/07/23", "1985-7-23", "19850723", "1985年7月23日", "昭和60年7月23日",
     "昭和60年 7月23日生", "S60.7.23", "s600723", "昭60/7/23", "１９８５／０７／２３"],
)
def test_it_reads_seireki_and_wareki_birth_dates(text: str) -> None:
    parsed = run(f"m.parseDate({json.dumps(text)})")
    assert (parsed["y"], parsed["m"], parsed["d"]) == (1985, 7, 23)


def test_it_shows_both_forms() -> None:
    strings = {"seireki": "西暦 %Y年%M月%D日", "wareki": "和暦 %E%Y年%M月%D日", "gannen": "元"}
    text = run(f"m.bothForms(m.parseDate('1989-01-08'), {json.dumps(strings)})")
    assert text == "西暦 1989年1月8日 / 和暦 平成元年1月8日"


@pytest.mark.parametrize(
    ("text", "error"),
    [("", "required"), ("昭和65年1月1日", "era_range"), ("1985/02/30", "not_a_date"),
     ("平成31年5月1日", "era_range"), ("yesterday", "format")],
)
def test_it_names_what_is_wrong(text: str, error: str) -> None:
    assert run(f"m.parseDate({json.dumps(text)})")["error"] == error


def test_it_validates_the_card_face_for_the_bridge() -> None:
    ok = run(
        "m.validateCardFace({birth_date: 'S60.7.23', expiry_date: '令和16年7月23日',"
        " security_code: '４８２１'}, now)"
    )
    assert ok["values"] == {
        "birth_date": "1985-07-23", "expiry_date": "2034-07-23", "security_code": "4821"
    }
    bad = run(
        "m.validateCardFace({birth_date: '2030/01/01', expiry_date: '2020/01/01',"
        " security_code: '12a4'}, now)"
    )
    assert bad["values"] is None
    assert bad["errors"] == {
        "birth_date": "birth_future", "expiry_date": "card_expired", "security_code": "code_format"
    }


@pytest.mark.parametrize(
    ("kind", "value", "result"),
    [("auth", "2580", {"value": "2580"}), ("auth", "258", {"error": "auth_format"}),
     ("sign", "myna2580", {"value": "MYNA2580"}), ("sign", "MYNAMYNA", {"error": "sign_format"}),
     ("sign", "12345678", {"error": "sign_format"}), ("sign", "A1", {"error": "sign_format"}),
     ("sign", "", {"error": "required"})],
)
def test_it_checks_password_formats(kind: str, value: str, result: dict[str, str]) -> None:
    assert run(f"m.checkPassword({json.dumps(kind)}, {json.dumps(value)})") == result
