"""For operators, outside /v1: /healthz is always open; /metrics is open unless auth.metrics_public is false."""

from __future__ import annotations

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from ..deps import CredentialsDep, ServiceDep, SettingsDep

router = APIRouter()


@router.get("/healthz")
def healthz(svc: ServiceDep) -> JSONResponse:
    checks = svc.health()
    ok = all(v == "ok" for v in checks.values())
    return JSONResponse(status_code=200 if ok else 503, content={"status": "ok" if ok else "degraded", **checks})


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request, credentials: CredentialsDep, settings: SettingsDep) -> Response:
    if not settings.auth.metrics_public:  # then any valid key may scrape: it shows no namespace
        request.app.state.keyring.authorize(credentials.credentials if credentials else None, None)
    return Response(generate_latest(request.app.state.metrics), media_type=CONTENT_TYPE_LATEST)
