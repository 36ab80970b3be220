"""The API's routes, one router per resource. `v1` puts every /v1 route behind `authorize` (API keys, auth.py);
`ops.router` (/healthz, /metrics) stays outside it."""

from __future__ import annotations

from fastapi import APIRouter, Depends

from ..deps import authorize
from . import consolidations, facts, messages, topics

v1 = APIRouter(dependencies=[Depends(authorize)])
v1.include_router(facts.router)
v1.include_router(messages.router)
v1.include_router(consolidations.router)
v1.include_router(topics.router)
