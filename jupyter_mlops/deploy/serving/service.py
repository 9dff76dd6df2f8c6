"""The prediction service's core: framework-free handlers from request bytes to a ``Reply``.

The ASGI app (``asgi.py``) only maps paths to these methods. State lives here: the routing
table (swapped whole when the registry changes), the metrics, the request log and the
feedback store. Every method runs on the event loop's thread; the registry follower loads
versions in its own thread and hands them over with ``call_soon_threadsafe``.
"""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import shutil
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from jupyter_mlops.deploy.serving import oip
from jupyter_mlops.deploy.serving.batcher import MicroBatcher
from jupyter_mlops.deploy.serving.config import ServeConfig
from jupyter_mlops.deploy.serving.feedback import FeedbackStore, parse_feedback
from jupyter_mlops.deploy.serving.follower import RegistryFollower
from jupyter_mlops.deploy.serving.metrics import ServiceMetrics
from jupyter_mlops.deploy.serving.payload import Rows, encode_predictions, parse_invocation
from jupyter_mlops.deploy.serving.request_error import RequestError
from jupyter_mlops.deploy.serving.request_log import RequestLog
from jupyter_mlops.deploy.serving.routing import RoutingTable
from jupyter_mlops.deploy.serving.served_version import ServedVersion, identical
from jupyter_mlops.registry.traffic import TrafficSplit

log = logging.getLogger(__name__)

JSON = "application/json"
PIN_HEADER = "x-mlops-version"  # a request header pinning one loaded version


@dataclass(frozen=True)
class Reply:
    """An HTTP answer: status, body, content type and extra headers."""

    status: int
    body: bytes
    content_type: str = JSON
    headers: tuple[tuple[str, str], ...] = ()


def json_reply(status: int, data: Any) -> Reply:
    """``data`` as a JSON reply."""
    return Reply(status, json.dumps(data).encode())


def error_reply(error: RequestError) -> Reply:
    """The 4xx reply of a client error."""
    return Reply(error.status, error.to_body())


class PredictionService:
    """Serves alias ``config.alias`` of model ``config.model`` as the registry says."""

    def __init__(self, config: ServeConfig) -> None:
        self.config = config
        self.workdir = Path(tempfile.mkdtemp(prefix="mlops-serve-"))
        self.metrics = ServiceMetrics(config.model)
        self.request_log = self._request_log()
        self.feedback = (
            FeedbackStore(config.log_dir, config.model) if config.log_dir is not None else None
        )
        self.table: RoutingTable | None = None
        self._retiring: list[ServedVersion] = []
        self._loop: asyncio.AbstractEventLoop | None = None
        self.follower = RegistryFollower(
            config.tracking_uri,
            config.model,
            config.alias,
            self.workdir,
            config.poll_seconds,
            install=self._install_from_follower,
            loaded=self._loaded,
            trusted_digest=config.trusted_digest,
        )

    def _request_log(self) -> RequestLog | None:
        if self.config.log_dir is None or self.config.log_sample == 0:
            return None
        return RequestLog(
            self.config.log_dir,
            self.config.model,
            sample_rate=self.config.log_sample,
            on_drop=self.metrics.count_dropped,
        )

    # --- life cycle ---------------------------------------------------------------------

    def start(self) -> None:
        """Load what the registry says (on the loop's thread, before any request), then
        follow it in the background."""
        self._loop = asyncio.get_running_loop()
        self.follower.poll_safely()
        self.follower.start()

    def stop(self) -> None:
        """Stop following, flush the request log, forget the downloaded models."""
        self.follower.stop()
        if self.request_log is not None:
            self.request_log.close()
        shutil.rmtree(self.workdir, ignore_errors=True)

    def _loaded(self) -> Mapping[str, ServedVersion]:
        table = self.table
        return {v: b.served for v, b in table.batchers.items()} if table else {}

    def _install_from_follower(
        self, alias_version: str | None, split: TrafficSplit, versions: dict[str, ServedVersion]
    ) -> None:
        loop = self._loop
        if loop is None:
            return
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is loop:
            self.install(alias_version, split, versions)
        else:
            loop.call_soon_threadsafe(self.install, alias_version, split, versions)

    def install(
        self, alias_version: str | None, split: TrafficSplit, versions: dict[str, ServedVersion]
    ) -> None:
        """Swap in a routing table over ``versions``; versions no longer served are
        released once their in-flight requests are answered."""
        old = self.table
        batchers = {}
        for version, served in versions.items():
            kept = old.batchers.get(version) if old else None
            batchers[version] = (
                kept
                if kept is not None and kept.served is served
                else MicroBatcher(
                    served,
                    self.config.batch_max_rows,
                    self.config.batch_wait_seconds,
                    self.metrics.observe_batch,
                )
            )
        self.table = RoutingTable.build(self.config.alias, alias_version, split, batchers)
        for version, batcher in old.batchers.items() if old else ():
            if versions.get(version) is not batcher.served:
                self._retiring.append(batcher.served)
        self._release_idle()
        if old is None:  # the libraries and the first model: left out of gen-2 collections
            gc.freeze()  # (a pause of tens of ms in a process this size); later versions are not
        log.info("serving %s: %s", self.config.model, split.to_json())

    def _release_idle(self) -> None:
        idle = [served for served in self._retiring if served.inflight == 0]
        for served in idle:
            self._retiring.remove(served)
            served.release()

    # --- predictions --------------------------------------------------------------------

    async def invocations(
        self, body: bytes, content_type: str, headers: Mapping[str, str]
    ) -> Reply:
        """``POST /invocations``: MLflow's request formats, ``{"predictions": …}``."""

        def parse(served: ServedVersion) -> tuple[Rows, str | None]:
            rows = parse_invocation(body, content_type, served.schema, self.config.max_rows)
            return rows, None

        return await self._predict("invocations", headers, parse, encode_predictions_reply)

    async def infer(self, name: str, body: bytes, headers: Mapping[str, str]) -> Reply:
        """``POST /v2/models/{name}/infer``: the Open Inference Protocol v2."""
        if name != self.config.model:
            return error_reply(_unknown_model(name, self.config.model))

        def parse(served: ServedVersion) -> tuple[Rows, str | None]:
            return oip.parse_infer(body, served.schema, self.config.max_rows)

        def encode(version: str, request_id: str, predictions: Any) -> bytes:
            return oip.encode_infer(self.config.model, version, request_id, predictions)

        return await self._predict("infer", headers, parse, encode)

    async def _predict(
        self, kind: str, headers: Mapping[str, str], parse: Any, encode: Any
    ) -> Reply:
        started = time.perf_counter()
        table = self.table
        if table is None or not table.ready:
            self.metrics.observe(None, 503, time.perf_counter() - started, kind)
            return self._unavailable()
        try:
            batcher = self._route(table, headers)
        except RequestError as error:
            self.metrics.observe(None, error.status, time.perf_counter() - started, kind)
            return error_reply(error)
        served = batcher.served
        try:
            rows, given_id = parse(served)
        except RequestError as error:
            self.metrics.observe(None, error.status, time.perf_counter() - started, kind)
            return error_reply(error)
        request_id = given_id or headers.get("x-request-id") or uuid.uuid4().hex
        served.inflight += 1
        try:
            predictions = await batcher.predict(rows)
        except Exception as exc:
            self.metrics.observe(served.version, 500, time.perf_counter() - started, kind)
            return _model_failed(served.version, exc)
        finally:
            served.inflight -= 1
            if self._retiring:
                self._release_idle()
        try:
            body = encode(served.version, request_id, predictions)
        except Exception as exc:
            self.metrics.observe(served.version, 500, time.perf_counter() - started, kind)
            return _model_failed(served.version, exc, "answered something not JSON-encodable")
        seconds = time.perf_counter() - started
        self.metrics.observe(served.version, 200, seconds, kind)
        self.metrics.observe_predictions(served.version, predictions)
        self._log(request_id, served.version, rows, predictions, seconds)
        for shadow in table.shadows():
            if shadow is not batcher:
                asyncio.ensure_future(
                    self._shadow(shadow, parse, rows, served, predictions, request_id)
                )
        extra = (("x-model-version", served.version), ("x-request-id", request_id))
        return Reply(200, body, JSON, extra)

    def _route(self, table: RoutingTable, headers: Mapping[str, str]) -> MicroBatcher:
        """The version a request pinned (``x-mlops-version``, any loaded version, e.g. a
        standby one being smoke-tested), else the split's choice."""
        pinned = headers.get(PIN_HEADER)
        if pinned is None:
            return table.choose(headers.get(table.split.sticky) if table.split.sticky else None)
        batcher = table.batchers.get(pinned.strip())
        if batcher is None:
            loaded = ", ".join(sorted(table.batchers, key=int))
            raise RequestError(
                404,
                "RESOURCE_DOES_NOT_EXIST",
                f"{PIN_HEADER}: version '{pinned}' of model '{self.config.model}' is not "
                f"loaded here (loaded: {loaded})",
            )
        return batcher

    async def _shadow(
        self,
        shadow: MicroBatcher,
        parse: Any,
        rows: Rows,
        served: ServedVersion,
        answered: Any,
        request_id: str,
    ) -> None:
        """Predict a copy of a request on a shadow version: logged and compared, never returned."""
        version = shadow.served.version
        started = time.perf_counter()
        try:
            same_schema = shadow.served.schema == served.schema
            shadow_rows = rows if same_schema else parse(shadow.served)[0]
            predictions = await shadow.predict(shadow_rows)
        except Exception:
            self.metrics.observe(version, 500, time.perf_counter() - started, "shadow")
            self.metrics.observe_shadow(version, matched=False)
            return
        seconds = time.perf_counter() - started
        self.metrics.observe(version, 200, seconds, "shadow")
        self.metrics.observe_predictions(version, predictions)
        self.metrics.observe_shadow(version, identical(predictions, answered))
        self._log(request_id, version, shadow_rows, predictions, seconds, shadow_of=served.version)

    def _log(
        self,
        request_id: str,
        version: str,
        rows: Rows,
        predictions: Any,
        seconds: float,
        shadow_of: str | None = None,
    ) -> None:
        if self.request_log is not None:
            self.request_log.log(
                request_id,
                time.time(),
                version,
                rows.columns,
                rows.values,
                predictions,
                seconds,
                shadow_of=shadow_of,
            )

    def _unavailable(self) -> Reply:
        problems = "; ".join(self.follower.problems.values())
        why = f": {problems}" if problems else ""
        message = f"no version of model '{self.config.model}' is loaded for alias '{self.config.alias}' yet{why}"
        return json_reply(503, {"error_code": "TEMPORARILY_UNAVAILABLE", "message": message})

    # --- the other endpoints ------------------------------------------------------------

    def health(self) -> Reply:
        """``/ping``, ``/health``: 200 when some version takes traffic, else 503."""
        table = self.table
        if table is None or not table.ready:
            return self._unavailable()
        return json_reply(200, {"status": "ready", "versions": sorted(table.batchers, key=int)})

    def version_info(self) -> Reply:
        """``/version``: the model, its served versions and their traffic shares."""
        table = self.table
        return json_reply(
            200,
            {
                "model": self.config.model,
                "alias": self.config.alias,
                "alias_version": table.alias_version if table else None,
                "ready": bool(table and table.ready),
                "versions": table.describe() if table else [],
                "rollout": table.split.rollout if table else None,
                "sticky": table.split.sticky if table else None,
                "problems": dict(self.follower.problems),
                "poll_seconds": self.config.poll_seconds,
                "instance": self.metrics.instance,
            },
        )

    def stats(self) -> Reply:
        """``/stats``: the metrics as JSON, read by a rollout's analysis."""
        return json_reply(200, self.metrics.snapshot())

    def prometheus(self) -> Reply:
        """``/metrics``: Prometheus text."""
        return Reply(200, self.metrics.render(), "text/plain; version=0.0.4; charset=utf-8")

    def model_metadata(self, name: str) -> Reply:
        """``GET /v2/models/{name}``."""
        table = self.table
        if name != self.config.model:
            return error_reply(_unknown_model(name, self.config.model))
        if table is None or not table.ready:
            return self._unavailable()
        schema = table.choose().served.schema
        return Reply(200, oip.model_metadata(name, sorted(table.batchers, key=int), schema))

    def store_feedback(self, body: bytes) -> Reply:
        """``POST /feedback``: outcomes joined to the request log by request id."""
        if self.feedback is None:
            return error_reply(
                RequestError(
                    404, "RESOURCE_DOES_NOT_EXIST", "feedback needs the request log (--log-dir)"
                )
            )
        try:
            items = parse_feedback(body)
        except RequestError as error:
            return error_reply(error)
        return json_reply(200, {"stored": self.feedback.add(items)})


def encode_predictions_reply(version: str, request_id: str, predictions: Any) -> bytes:
    """MLflow's ``{"predictions": …}`` body."""
    return encode_predictions(predictions)


def _unknown_model(name: str, served: str) -> RequestError:
    return RequestError(
        404,
        "RESOURCE_DOES_NOT_EXIST",
        f"model '{name}' is not served here (this service serves '{served}')",
    )


def _model_failed(version: str, error: BaseException, what: str | None = None) -> Reply:
    """A 500 naming the version and what the model raised; the service stays up."""
    text = str(error).strip().splitlines()
    detail = what or f"raised {type(error).__name__}" + (f": {text[0]}" if text else "")
    message = f"model version {version} {detail}"
    return Reply(
        500,
        json.dumps({"error_code": "MODEL_ERROR", "message": message}).encode(),
        JSON,
        (("x-model-version", version),),
    )
