"""`/api/v1/sinks`: the installed sinks and their parameter schemas (viewer role).

Authors read this to write an Action: which fields a sink takes, and which of them are
credentials (`credentials`, and `"x-credential": true` in the schema), which must be given
as `SECRET` parameters naming a key.
"""

from __future__ import annotations

from fastapi import APIRouter

from hub.api.auth import Viewer
from hub.api.automation_schemas import SinkOut
from sinks.base import load_sinks

router = APIRouter(prefix="/api/v1/sinks", tags=["sinks"])


@router.get("", response_model=list[SinkOut])
def list_sinks(_principal: Viewer) -> list[SinkOut]:
    return [SinkOut(name=name, description=sink.description,
                    credentials=sorted(sink.credential_fields()),
                    parameters=sink.parameter_schema())
            for name, sink in sorted(load_sinks().items())]
