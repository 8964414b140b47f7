"""Bridge settings: command-line options merged over an optional TOML file.

The listening address is fixed to 127.0.0.1 (never configurable): the bridge is a local helper,
and binding anything else would expose the card reader to the network (style.md, "Localhost
hardening").
"""

from __future__ import annotations

import logging
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from mynacard.challenge import ORIGIN_PATTERN

logger = logging.getLogger(__name__)

HOST = "127.0.0.1"
DEFAULT_PORT = 9581
#: Development pages served by `manage.py runserver` (docs/bridge-protocol.md, "Origins").
DEFAULT_ALLOWED_ORIGINS: tuple[str, ...] = ("http://localhost:8000", "http://127.0.0.1:8000")
#: Larger client messages are refused (close code 1009); the biggest legitimate command is ~300 B.
DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024
_LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]"})


class ConfigError(ValueError):
    """A bad option or config-file value; the CLI prints it and exits with status 2."""


def normalize_origin(value: str) -> str:
    """``scheme://host[:port]`` in lower case, or ConfigError.

    Browsers send exactly this serialisation in the ``Origin`` header (RFC 6454 §6.1), so the
    allow-list is compared byte for byte after this step. Plain ``http`` is allowed only for
    loopback development pages: Web eID likewise binds results to HTTPS origins only.
    """
    text = value.strip()
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"origin {value!r} must look like https://host[:port]")
    if parts.path not in ("", "/") or parts.query or parts.fragment or parts.username:
        raise ConfigError(f"origin {value!r} must not have a path, query or credentials")
    host = parts.hostname.lower()
    if ":" in host:
        host = f"[{host}]"
    try:
        port = parts.port
    except ValueError as exc:
        raise ConfigError(f"origin {value!r} has a bad port") from exc
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        raise ConfigError(f"origin {value!r}: plain http is allowed for localhost only")
    default_port = 443 if parts.scheme == "https" else 80
    netloc = host if port in (None, default_port) else f"{host}:{port}"
    origin = f"{parts.scheme}://{netloc}"
    # Every result is bound to this origin by mynacard.challenge, which accepts only this form
    # (e.g. no non-ASCII host): refuse at start-up rather than fail each card command later.
    if ORIGIN_PATTERN.fullmatch(origin) is None:
        raise ConfigError(f"origin {value!r} is not a serialized origin (ASCII host, lower case)")
    return origin


@dataclass(frozen=True)
class BridgeConfig:
    """Everything the server needs to start."""

    port: int = DEFAULT_PORT
    allowed_origins: frozenset[str] = field(
        default_factory=lambda: frozenset(DEFAULT_ALLOWED_ORIGINS)
    )
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES
    #: None = real PC/SC; otherwise the simulated card profile ("demo" or a TOML path).
    simulate: str | None = None
    #: Kiosk mode (``--kiosk``): also relays the issuer channel's APDUs (docs/issuer-channel.md).
    kiosk: bool = False

    @property
    def host(self) -> str:
        return HOST


def _check_port(value: Any, *, allow_zero: bool) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"port must be an integer, got {value!r}")
    low = 0 if allow_zero else 1
    if not low <= value <= 65535:
        raise ConfigError(f"port {value} out of range")
    return value


def load_config_file(path: Path) -> dict[str, Any]:
    """Read the ``[bridge]`` table of a TOML file (the whole file if it has no such table)."""
    try:
        with path.open("rb") as handle:
            data = tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
    table = data.get("bridge", data)
    if not isinstance(table, dict):
        raise ConfigError(f"config file {path}: [bridge] must be a table")
    known = {"port", "allow_origins", "max_message_bytes"}
    unknown = sorted(set(table) - known - {"bridge"})
    if unknown:
        raise ConfigError(f"config file {path}: unknown keys {', '.join(unknown)}")
    return table


def build_config(
    *,
    file_values: Mapping[str, Any] | None = None,
    port: int | None = None,
    allow_origins: Iterable[str] = (),
    simulate: str | None = None,
    allow_port_zero: bool = False,
    kiosk: bool = False,
) -> BridgeConfig:
    """Merge: command line over config file over defaults.

    Origins given on the command line and in the file are added together; the development
    defaults apply only when neither names any origin, so a deployment never silently keeps them.
    """
    values = dict(file_values or {})
    chosen_port = port if port is not None else values.get("port", DEFAULT_PORT)
    origins: list[str] = []
    file_origins = values.get("allow_origins", [])
    if not isinstance(file_origins, list) or not all(isinstance(o, str) for o in file_origins):
        raise ConfigError("allow_origins must be a list of strings")
    origins.extend(file_origins)
    origins.extend(allow_origins)
    normalized = frozenset(normalize_origin(o) for o in origins)
    max_bytes = values.get("max_message_bytes", DEFAULT_MAX_MESSAGE_BYTES)
    if isinstance(max_bytes, bool) or not isinstance(max_bytes, int) or not 1024 <= max_bytes:
        raise ConfigError("max_message_bytes must be an integer >= 1024")
    return BridgeConfig(
        port=_check_port(chosen_port, allow_zero=allow_port_zero),
        allowed_origins=normalized or frozenset(DEFAULT_ALLOWED_ORIGINS),
        max_message_bytes=max_bytes,
        simulate=simulate,
        kiosk=kiosk,
    )
