"""Consolidations: ask for a topic's facts to be trained into its adapter now, and follow the task."""

from __future__ import annotations

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field

from ..http_errors import ERROR_RESPONSES

router = APIRouter()


class ConsolidationRequest(BaseModel):
    topic: str = Field(..., description="Topic slug to consolidate now (every active fact of it)")


class ConsolidationAccepted(BaseModel):
    task_id: str | None = Field(None, description="The first task; a topic over capacity has one task per shard")
    task_ids: list[str]


@router.post("/v1/namespaces/{ns}/consolidations", status_code=202, response_model=ConsolidationAccepted,
             responses=ERROR_RESPONSES)
def consolidate(ns: str, body: ConsolidationRequest, request: Request) -> ConsolidationAccepted:
    ids = request.app.state.consolidations.request(ns, body.topic, reason="manual")
    return ConsolidationAccepted(task_id=ids[0] if ids else None, task_ids=ids)


@router.get("/v1/namespaces/{ns}/consolidations/{task_id}", responses=ERROR_RESPONSES)
def consolidation_state(ns: str, task_id: str, request: Request) -> dict:
    return request.app.state.consolidations.state(ns, task_id)
