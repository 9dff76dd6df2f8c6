"""The prediction service's settings, checked once before anything starts."""

from __future__ import annotations

import ipaddress
import os
import re
from dataclasses import dataclass
from pathlib import Path

from jupyter_mlops.errors import DeployError

TOKEN_ENV = "JUPYTER_MLOPS_SERVE_TOKEN"
_SIZE = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*(b|kb|mb|gb|kib|mib|gib)?\s*$")
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "kib": 2**10, "mib": 2**20, "gib": 2**30}
_DURATION = re.compile(r"(?i)^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h)?\s*$")
_SECONDS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ServeConfig:
    """What ``jupyter mlops serve`` was asked to do."""

    model: str  # "": a lookup-only service (``lookup`` set)
    tracking_uri: str
    alias: str = "production"
    host: str = "127.0.0.1"
    port: int = 8080
    workers: int = 1
    poll_seconds: float = 5.0
    log_dir: Path | None = None  # None: no request log
    log_sample: float = 1.0
    max_body_bytes: int = 10 * 10**6
    max_rows: int = 10_000
    batch_max_rows: int = 32
    batch_wait_seconds: float = 0.002
    token: str | None = None
    trusted_digest: str | None = None  # sha256 of a model folder loaded without a seal
    lookup: str | None = None  # URL#TABLE answering GET /predictions/{key}

    def check(self) -> ServeConfig:
        """The config itself; ``DeployError`` naming the first bad setting."""
        if not 0 <= self.port <= 65535:
            raise DeployError(f"--port must be 0..65535, not {self.port}")
        if self.workers < 1:
            raise DeployError(f"--workers must be at least 1, not {self.workers}")
        if not 0.0 <= self.log_sample <= 1.0:
            raise DeployError(f"--log-sample must be between 0 and 1, not {self.log_sample}")
        if self.poll_seconds <= 0:
            raise DeployError(f"--poll-interval must be positive, not {self.poll_seconds}")
        if self.max_rows < 1 or self.max_body_bytes < 1:
            raise DeployError("--max-rows and --max-body must be positive")
        if self.batch_max_rows < 1:
            raise DeployError(f"--batch-max must be at least 1, not {self.batch_max_rows}")
        if not self.model and self.lookup is None:
            raise DeployError("serve needs a MODEL to serve or a --lookup URL#TABLE, or both")
        if self.trusted_digest is not None and not _SHA256.fullmatch(self.trusted_digest):
            raise DeployError(
                f"--trust-digest must be a sha256 (64 hex digits), not '{self.trusted_digest}'",
                name="trust_digest",
            )
        if self.token is None and not is_loopback(self.host):
            raise DeployError(
                f"serving on {self.host} (not a loopback address) needs a bearer token: "
                f"pass --token or set ${TOKEN_ENV}",
                name="host",
            )
        return self


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable only from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def token_from_env(explicit: str | None) -> str | None:
    """``--token``, else ``$JUPYTER_MLOPS_SERVE_TOKEN``, else None (no auth)."""
    return explicit or os.environ.get(TOKEN_ENV) or None


def parse_size(text: str, option: str) -> int:
    """``10MB`` → bytes; ``DeployError`` naming ``option``."""
    match = _SIZE.match(text)
    if not match:
        raise DeployError(f"{option}: '{text}' is not a size (e.g. 10MB, 512KiB, 1000000)")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])


def parse_duration(text: str, option: str) -> float:
    """``30s`` / ``500ms`` / ``2m`` / ``1h`` / ``5`` (seconds) → seconds."""
    match = _DURATION.match(text)
    if not match:
        raise DeployError(f"{option}: '{text}' is not a duration (e.g. 500ms, 30s, 2m, 1h)")
    return float(match.group(1)) * _SECONDS[(match.group(2) or "s").lower()]
