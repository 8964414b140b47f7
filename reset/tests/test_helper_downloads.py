"""The helper downloads: the site serves exactly what the build's manifest lists, and says so
plainly when nothing is built (reset/helper_downloads.py, reset/helper_views.py)."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from reset.helper_downloads import load_offer

DEB = "myna-bridge_0.1.0_amd64.deb"


def _publish(directory: Path, *, files: dict[str, bytes], listed: list[str] | None = None) -> None:
    artifacts = []
    for name, body in files.items():
        (directory / name).write_bytes(body)
        digest = hashlib.sha256(body).hexdigest()
        (directory / f"{name}.sha256").write_text(f"{digest}  {name}\n")
        kind = "deb" if name.endswith(".deb") else "archive"
        artifacts.append({"file": name, "os": "linux", "kind": kind, "size": len(body),
                          "sha256": digest})
    for name in listed or []:
        artifacts.append({"file": name, "os": "darwin", "kind": "dmg", "size": 1,
                          "sha256": "0" * 64})
    manifest = {"version": "0.1.0", "api": 1, "artifacts": artifacts}
    (directory / "helper.json").write_text(json.dumps(manifest))


@pytest.fixture
def downloads(settings: Any, tmp_path: Path) -> Path:
    settings.MYNA_HELPER_DOWNLOADS_DIR = tmp_path
    return tmp_path


def test_with_nothing_built_the_help_page_says_so_and_offers_no_link(
    client: Client, downloads: Path
) -> None:
    body = client.get("/help/").content.decode()
    assert body.count("まだ用意されていません") == 3  # Windows, Mac, Linux
    assert "/helper/" not in body
    assert client.get(f"/helper/{DEB}").status_code == 404


def test_a_built_deb_is_offered_and_served_byte_for_byte_with_its_checksum(
    client: Client, downloads: Path
) -> None:
    _publish(downloads, files={DEB: b"debian package bytes"})
    body = client.get("/help/").content.decode()
    assert f'href="/helper/{DEB}"' in body
    assert f'href="/helper/{DEB}.sha256"' in body
    response = client.get(f"/helper/{DEB}")
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"debian package bytes"
    assert response["Content-Type"] == "application/vnd.debian.binary-package"
    assert response["Content-Disposition"].startswith("attachment")
    checksum = client.get(f"/helper/{DEB}.sha256")
    assert checksum["Content-Type"].startswith("text/plain")
    digest = hashlib.sha256(b"debian package bytes").hexdigest()
    assert b"".join(checksum.streaming_content).decode() == f"{digest}  {DEB}\n"


@pytest.mark.parametrize("name", ["helper.json", "other.deb", "..%2Fhelper.json", ".sha256"])
def test_only_files_the_manifest_lists_are_served(
    client: Client, downloads: Path, name: str
) -> None:
    _publish(downloads, files={DEB: b"x"})
    (downloads / "other.deb").write_bytes(b"not listed")
    assert client.get(f"/helper/{name}").status_code == 404


def test_a_listed_file_that_is_missing_or_a_broken_manifest_offers_nothing(
    downloads: Path,
) -> None:
    _publish(downloads, files={DEB: b"x"}, listed=["myna-bridge-0.1.0.dmg"])
    offer = load_offer(downloads)
    assert [d.file for d in offer.downloads] == [DEB]  # the .dmg is listed but not there
    assert offer.for_system("macos") == []
    (downloads / "helper.json").write_text("{not json")
    assert load_offer(downloads).downloads == ()


def test_the_wrong_method_is_refused(client: Client, downloads: Path) -> None:
    _publish(downloads, files={DEB: b"x"})
    assert client.post(f"/helper/{DEB}").status_code == 405
