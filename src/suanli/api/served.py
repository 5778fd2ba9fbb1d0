"""The app of one ``suanli serve`` worker process, built from its environment.

``suanli serve --workers N`` runs N processes (uvicorn's own process manager); each builds
its app here from what the command put in the environment, so all of them serve the one
database the command was given. All state lives there; background work runs in the
leader only (:mod:`suanli.api.leader`).
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from suanli.store.db import ENV_URL, Database

ENV_TICK = "SUANLI_SERVE_TICK"


def app() -> FastAPI:
    from suanli.api.app import create_app

    tick = float(os.environ.get(ENV_TICK, "5") or 0)
    return create_app(Database(os.environ[ENV_URL]), tick_seconds=tick or None)
