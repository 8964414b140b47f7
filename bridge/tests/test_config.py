"""Options and the TOML config file; the CLI's start-up line and exit codes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bridge.__main__ import main
from bridge.config import (
    DEFAULT_ALLOWED_ORIGINS,
    DEFAULT_PORT,
    ConfigError,
    build_config,
    load_config_file,
    normalize_origin,
)
from bridge.messages import Message
from bridge.readers import ReaderInfo, ReaderSnapshot, diff_snapshots
from bridge.reasons import FIXES, BridgeReason


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("https://Reset.Example.JP", "https://reset.example.jp"),
        ("https://reset.example.jp:443/", "https://reset.example.jp"),
        ("https://reset.example.jp:8443", "https://reset.example.jp:8443"),
        ("http://localhost:8000", "http://localhost:8000"),
        ("http://127.0.0.1", "http://127.0.0.1"),
    ],
)
def test_origins_are_normalised_like_browsers_serialise_them(given: str, expected: str) -> None:
    assert normalize_origin(given) == expected


@pytest.mark.parametrize(
    "bad",
    ["reset.example.jp", "ftp://x.jp", "https://x.jp/path", "http://public.example.jp",
     "https://user@x.jp", "https://x.jp:99999"],
)
def test_bad_origins_are_refused(bad: str) -> None:
    with pytest.raises(ConfigError):
        normalize_origin(bad)


@pytest.mark.parametrize("unsignable", ["https://réserve.example.jp", "https://re_set.example.jp"])
def test_an_origin_the_challenge_would_refuse_is_refused_at_start_up(unsignable: str) -> None:
    with pytest.raises(ConfigError, match="not a serialized origin"):
        normalize_origin(unsignable)


def test_defaults_are_the_development_pages() -> None:
    config = build_config()
    assert config.port == DEFAULT_PORT == 9581
    assert config.host == "127.0.0.1"
    assert config.allowed_origins == frozenset(DEFAULT_ALLOWED_ORIGINS)


def test_file_and_command_line_origins_add_up_and_replace_the_defaults(tmp_path: Path) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text('[bridge]\nport = 9600\nallow_origins = ["https://a.example.jp"]\n')
    config = build_config(
        file_values=load_config_file(path), allow_origins=["https://b.example.jp"]
    )
    assert config.port == 9600
    assert config.allowed_origins == {"https://a.example.jp", "https://b.example.jp"}
    assert build_config(file_values=load_config_file(path), port=9700).port == 9700


@pytest.mark.parametrize(
    "content",
    ['[bridge]\nprot = 1\n', "[bridge]\nport = 'x'\n", "not toml =", "[bridge]\nport = 70000\n",
     '[bridge]\nallow_origins = "https://a.jp"\n'],
)
def test_bad_config_files_are_errors(tmp_path: Path, content: str) -> None:
    path = tmp_path / "bridge.toml"
    path.write_text(content)
    with pytest.raises(ConfigError):
        build_config(file_values=load_config_file(path))


def test_the_cli_exits_2_on_a_bad_origin(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--allow-origin", "http://public.example.jp"]) == 2
    assert "plain http" in capsys.readouterr().err


def test_the_cli_starts_in_simulate_mode_and_announces_its_port() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bridge", "--simulate", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline()
        assert line.startswith("LISTENING ws://127.0.0.1:")
    finally:
        process.terminate()
        _, err = process.communicate(timeout=20)
    assert process.returncode == 0, err
    assert "simulated" in err


def _json(messages: list[Message]) -> list[dict[str, Any]]:
    return [message.to_json() for message in messages]


def test_reader_diffs_become_events() -> None:
    old = ReaderSnapshot((ReaderInfo("A", False), ReaderInfo("B", True)))
    new = ReaderSnapshot((ReaderInfo("A", True), ReaderInfo("C", False)))
    events = {(e["event"], e["reader"]) for e in _json(diff_snapshots(old, new))}
    assert events == {("card_inserted", "A"), ("detached", "B"), ("attached", "C")}
    down = _json(diff_snapshots(new, ReaderSnapshot((), BridgeReason.NO_PCSC_SERVICE)))
    assert {"msg": "SERVICE", "available": False, "reason": "NO_PCSC_SERVICE",
            "fix": FIXES[BridgeReason.NO_PCSC_SERVICE]} in down


def test_every_reason_has_a_fix() -> None:
    assert set(FIXES) == set(BridgeReason)


def test_the_cli_exits_2_on_a_missing_simulator_profile(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--simulate", str(tmp_path / "missing.toml"), "--port", "0"]) == 2
    assert "missing.toml" in capsys.readouterr().err


def test_simulate_with_a_profile_loads_that_card(tmp_path: Path) -> None:
    from bridge.__main__ import make_backend
    from bridge.simulated import SimulatedBackend
    from mynacard.pins import PinKind

    profiles = Path(__file__).resolve().parents[2] / "mynacard" / "sim" / "profiles"
    text = (profiles / "demo.toml").read_text(encoding="utf-8")
    marker = '[pins.jpki_auth]\nvalue = "2580"\ntries_left = 3\n'
    assert marker in text
    (tmp_path / "demo.jp2").write_bytes((profiles / "demo.jp2").read_bytes())
    profile = tmp_path / "last-try.toml"
    profile.write_text(text.replace(marker, marker.replace("= 3", "= 1")), encoding="utf-8")
    backend = make_backend(build_config(simulate=str(profile)))
    assert isinstance(backend, SimulatedBackend)
    assert backend.card.tries_left(PinKind.JPKI_AUTH) == 1
    demo = make_backend(build_config(simulate="demo"))
    assert isinstance(demo, SimulatedBackend)
    assert demo.card.tries_left(PinKind.JPKI_AUTH) == 3
