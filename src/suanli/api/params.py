"""Parameter types shared by the routers: the id in a path, bounded like every id
(:data:`suanli.kit.bounds.Id`). A path id out of range answers 404, as an unknown id
does (:mod:`suanli.api.errors`); a query id out of range answers 422."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path

from suanli.kit.bounds import Id

PathId = Annotated[Id, Path(description="an id, 1 to 2147483647 (any other number: 404)")]
