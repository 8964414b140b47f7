"""The standalone helper as a resident gets it: the build's artifacts, checksums and the .deb.

The .deb is read with dpkg-deb (control fields, contents, the origin allow-list it installs),
then installed and purged with the real dpkg in a throw-away root (``dpkg --root``, maintainer
scripts run chrootless and see DPKG_ROOT), which must be left with nothing but dpkg's own
database. The bridge protocol tests run against the same build (bridge/tests/conftest.py).
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import tomllib
from pathlib import Path

import pytest

from bridge import __version__
from bridge.protocol import API_LEVEL
from tests.helper_build import TEST_SERVICE_ORIGIN, BuiltHelper

pytestmark = pytest.mark.helper_build

EXPECTED_FILES = {
    "./usr/bin/myna-bridge",
    "./usr/lib/myna-bridge/myna-bridge",
    "./etc/myna-bridge/config.toml",
    "./usr/lib/systemd/user/myna-bridge.service",
    "./usr/lib/systemd/user/default.target.wants/myna-bridge.service",
    "./usr/share/applications/myna-bridge.desktop",
    "./usr/share/doc/myna-bridge/copyright",
}


def _run(*args: str | Path, cwd: Path | None = None) -> str:
    return subprocess.run(
        [str(a) for a in args], capture_output=True, text=True, check=True, timeout=120, cwd=cwd
    ).stdout


def test_every_artifact_has_a_matching_sha256_file_and_is_in_the_manifest(
    built_helper: BuiltHelper,
) -> None:
    manifest = built_helper.manifest
    assert manifest["version"] == __version__
    assert manifest["api"] == API_LEVEL
    kinds = {entry["kind"] for entry in manifest["artifacts"]}
    assert kinds == {"archive", "deb"}
    for entry in manifest["artifacts"]:
        path = built_helper.out / entry["file"]
        assert __version__ in entry["file"]
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
        assert entry["sha256"] == digest
        assert entry["size"] == path.stat().st_size
        assert (path.parent / f"{path.name}.sha256").read_text() == f"{digest}  {path.name}\n"
        # The format sha256sum -c reads, as a resident or a packager would check it.
        _run("sha256sum", "--check", "--status", f"{path.name}.sha256", cwd=path.parent)


def test_the_built_helper_carries_its_version_and_no_django(built_helper: BuiltHelper) -> None:
    clean_env = {"PATH": "/usr/bin:/bin", "HOME": os.environ.get("HOME", "/root")}
    out = subprocess.run(
        [str(built_helper.binary), "--version"], env=clean_env, capture_output=True, text=True,
        check=True, timeout=60,
    ).stdout
    assert out.strip() == f"myna-bridge {__version__}"
    bundled = {p.name for p in (built_helper.folder / "_internal").iterdir()}
    for absent in ("django", "numpy", "cv2", "dlib", "PIL", "faceverify", "reset", "webapp"):
        assert absent not in bundled


def test_the_deb_control_fields(built_helper: BuiltHelper) -> None:
    deb = built_helper.artifact("deb")
    fields = dict(
        line.split(": ", 1)
        for line in _run("dpkg-deb", "--field", deb).splitlines()
        if ": " in line and not line.startswith(" ")
    )
    assert fields["Package"] == "myna-bridge"
    assert fields["Version"] == __version__
    assert fields["Architecture"] == _run("dpkg", "--print-architecture").strip()
    assert "libpcsclite1" in fields["Depends"]  # pyscard loads the system's PC/SC client
    assert "pcscd" in fields["Recommends"]
    assert f"API level {API_LEVEL}" in fields["Description"]
    assert int(fields["Installed-Size"]) > 1000


def test_the_deb_contents_and_the_origin_it_allows(
    built_helper: BuiltHelper, tmp_path: Path
) -> None:
    deb = built_helper.artifact("deb")
    listing = _run("dpkg-deb", "--contents", deb)
    paths = {line.split()[5] for line in listing.splitlines()}
    assert EXPECTED_FILES <= paths
    outside = [p for p in paths if not p.startswith(("./usr/", "./etc/myna-bridge"))]
    assert sorted(outside) == ["./", "./etc/"]
    _run("dpkg-deb", "--extract", deb, tmp_path)
    config = tomllib.loads((tmp_path / "etc/myna-bridge/config.toml").read_text())
    assert config["bridge"]["allow_origins"] == [TEST_SERVICE_ORIGIN]
    unit = (tmp_path / "usr/lib/systemd/user/myna-bridge.service").read_text()
    assert "ExecStart=/usr/bin/myna-bridge --config /etc/myna-bridge/config.toml" in unit
    wants = tmp_path / "usr/lib/systemd/user/default.target.wants/myna-bridge.service"
    assert os.readlink(wants) == "../myna-bridge.service"  # enabled for every user
    conffiles = _run("dpkg-deb", "--info", deb, "conffiles")
    assert conffiles.split() == ["/etc/myna-bridge/config.toml"]


def _dpkg(root: Path, *args: str | Path) -> None:
    # Chrootless scripts: the throw-away root has no shell; the scripts skip systemd there.
    _run("dpkg", f"--root={root}", "--force-script-chrootless", "--force-depends",
         "--force-not-root", "--log=/dev/null", *args)


def _files(root: Path) -> set[str]:
    return {
        str(p.relative_to(root))
        for p in root.rglob("*")
        if not str(p.relative_to(root)).startswith(("var/lib/dpkg", "var/log"))
    }


def test_the_deb_installs_runs_and_purges_leaving_nothing_behind(
    built_helper: BuiltHelper, tmp_path: Path
) -> None:
    root = tmp_path / "root"
    for sub in ("info", "updates", "triggers"):
        (root / "var/lib/dpkg" / sub).mkdir(parents=True)
    (root / "var/lib/dpkg/status").touch()
    before = _files(root)

    _dpkg(root, "--install", built_helper.artifact("deb"))
    installed = _files(root)
    assert {p.removeprefix("./") for p in EXPECTED_FILES} <= installed
    assert "myna-bridge" in _run("dpkg", f"--root={root}", "--list", "myna-bridge")
    out = subprocess.run(
        [str(root / "usr/bin/myna-bridge"), "--version"], env={"PATH": "/usr/bin:/bin"},
        capture_output=True, text=True, check=True, timeout=60,
    ).stdout
    assert out.strip() == f"myna-bridge {__version__}"  # the installed copy, through the link

    _dpkg(root, "--remove", "myna-bridge")  # apt remove: only the edited-or-not conffile stays
    assert _files(root) - before - {"var", "var/lib"} == {"etc", "etc/myna-bridge",
                                                          "etc/myna-bridge/config.toml"}
    _dpkg(root, "--purge", "myna-bridge")
    left = _files(root) - before
    assert left <= {"var", "var/lib"}, sorted(left)[:20]
