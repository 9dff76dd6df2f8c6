"""HTTP calls a rollout makes to a running prediction service: ``/version``, ``/stats`` and
predictions pinned to one version (header ``x-mlops-version``). Standard library only."""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import Any

from jupyter_mlops.errors import DeployError

PIN_HEADER = "x-mlops-version"
TIMEOUT = 30.0


@dataclass(frozen=True)
class Answer:
    """One HTTP answer: status, the answering version (``x-model-version``), the body."""

    status: int
    version: str | None
    body: bytes

    def json(self) -> Any:
        """The body as JSON (None when it is not JSON)."""
        try:
            return json.loads(self.body)
        except ValueError:
            return None


@dataclass(frozen=True)
class ServiceClient:
    """The service at ``url``; ``token`` is its bearer token, if it needs one."""

    url: str
    token: str | None = None
    timeout: float = TIMEOUT  # seconds per request

    @classmethod
    def for_target(cls, url: str, token_env: str | None) -> ServiceClient:
        """A client of ``url`` with the token in environment variable ``token_env``."""
        token = None
        if token_env is not None:
            token = os.environ.get(token_env)
            if not token:
                raise DeployError(
                    f"environment variable {token_env} (the target's token_env) is not set",
                    name=token_env,
                )
        return cls(url, token)

    def get_json(self, path: str) -> Any:
        """``GET path`` as JSON; ``DeployError`` when the service does not answer 200."""
        answer = self.request("GET", path)
        data = answer.json()
        if answer.status != 200 or data is None:
            raise DeployError(
                f"{self.url}{path} answered {answer.status}: {answer.body[:200]!r}",
                path=self.url,
            )
        return data

    def predict(self, body: Any, version: str | None = None, **headers: str) -> Answer:
        """``POST /invocations`` with a JSON body, pinned to ``version`` when given."""
        extra = {PIN_HEADER: version} if version is not None else {}
        data = json.dumps(body).encode()
        return self.request("POST", "/invocations", data, {**extra, **headers})

    def request(
        self,
        method: str,
        path: str,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Answer:
        """One request; any HTTP status is an ``Answer``, an unreachable service a
        ``DeployError``."""
        request = urllib.request.Request(self.url + path, data=data, method=method)
        if data is not None:
            request.add_header("Content-Type", "application/json")
        if self.token:
            request.add_header("Authorization", f"Bearer {self.token}")
        for key, value in (headers or {}).items():
            request.add_header(key, value)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as reply:  # noqa: S310 - http(s) URL checked in targets
                return Answer(reply.status, reply.headers.get("x-model-version"), reply.read())
        except urllib.error.HTTPError as error:
            return Answer(error.code, error.headers.get("x-model-version"), error.read())
        except (urllib.error.URLError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise DeployError(
                f"cannot reach the prediction service at {self.url}: {reason}", path=self.url
            ) from None
