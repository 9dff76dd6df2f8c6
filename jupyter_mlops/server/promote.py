"""``POST models/<name>/promote``: move a registry alias (champion by default) to a version,
as ``jupyter mlops promote`` does. A version the gates rejected is refused with 409 naming
the version and the gates' reasons unless ``force`` is true. Same rules as ``handlers.py``."""

from __future__ import annotations

import asyncio
from typing import Any

from tornado import web

from jupyter_mlops.errors import MlopsError, PromotionRefused
from jupyter_mlops.server import actions
from jupyter_mlops.server.api_error import ApiError
from jupyter_mlops.server.handlers import MlopsHandler
from jupyter_mlops.server.request_limits import check_model_name, check_name

MAX_VERSION_DIGITS = 18


class PromoteHandler(MlopsHandler):
    """``POST models/<name>/promote {version?, alias?, force?, path?}`` → what moved (200),
    or 409 when the version was rejected by the gates and ``force`` is not true."""

    @web.authenticated
    async def post(self, name: str) -> None:
        check_model_name(name, "name")
        body = self.json_body()
        version = _version(body.get("version"))
        alias = check_name(body.get("alias", "champion"), "alias")
        force = body.get("force", False)
        if not isinstance(force, bool):
            raise ApiError(400, "'force' must be true or false")
        api_path = body.get("path")
        path = self.resolve(api_path) if api_path is not None else self.root
        try:
            done = await asyncio.to_thread(actions.promote, path, name, version, alias, force)
        except PromotionRefused as error:  # the CLI's "pass --force" hint is not for REST
            message = self.strip_root(str(error)).split("; pass --force")[0]
            raise ApiError(409, message, version=version) from error
        except MlopsError as error:
            raise self.api_error(error) from error
        self.reply(done)


def _version(value: Any) -> str | None:
    """A version number as text (None: the challenger)."""
    if value is None:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and value > 0:
        value = str(value)
    if not isinstance(value, str) or not value.isdigit() or len(value) > MAX_VERSION_DIGITS:
        raise ApiError(400, "'version' must be a version number such as \"3\"")
    return value
