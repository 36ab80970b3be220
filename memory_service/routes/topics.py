"""Topics: what a namespace's facts are grouped into (each topic consolidates into its own adapter)."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import ServiceDep
from ..http_errors import ERROR_RESPONSES
from ..schemas import TopicInfo

router = APIRouter()


@router.get("/v1/namespaces/{ns}/topics", response_model=list[TopicInfo], responses=ERROR_RESPONSES)
def topics(ns: str, svc: ServiceDep) -> list[TopicInfo]:
    return svc.topics(ns)
