"""Facts: write, list, read, delete, and recall by meaning."""

from __future__ import annotations

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field

from ..deps import ServiceDep
from ..http_errors import ERROR_RESPONSES
from ..schemas import Fact, FactIn, RecallHit, WriteResult

router = APIRouter()


class WriteRequest(BaseModel):
    facts: list[FactIn] = Field(..., min_length=1, description="Facts to remember, written all or none")


class WriteResponse(BaseModel):
    results: list[WriteResult]


class FactList(BaseModel):
    facts: list[Fact]
    next_offset: str | None = Field(None, description="Pass as `offset` for the next page")


class RecallRequest(BaseModel):
    query: str = Field(..., description="The question or cue")
    limit: int | None = Field(None, ge=1, le=100)
    topic: str | None = None


class RecallResponse(BaseModel):
    hits: list[RecallHit]


# Registration order within a path decides the Allow header of a 405: POST before GET, GET before DELETE.
@router.post("/v1/namespaces/{ns}/facts", status_code=201, response_model=WriteResponse, responses=ERROR_RESPONSES)
def write_facts(ns: str, body: WriteRequest, svc: ServiceDep) -> WriteResponse:
    return WriteResponse(results=svc.write(ns, body.facts))


@router.get("/v1/namespaces/{ns}/facts", response_model=FactList, responses=ERROR_RESPONSES)
def list_facts(ns: str, svc: ServiceDep, topic: str | None = None,
               status: str | None = Query("active", description="active, superseded, deleted; empty = all"),
               limit: int = Query(100, ge=1, le=1000), offset: str | None = None) -> FactList:
    facts, nxt = svc.list(ns, topic=topic, status=status or None, limit=limit, offset=offset)
    return FactList(facts=facts, next_offset=nxt)


@router.get("/v1/namespaces/{ns}/facts/{fact_id}", response_model=Fact, responses=ERROR_RESPONSES)
def get_fact(ns: str, fact_id: str, svc: ServiceDep) -> Fact:
    return svc.get(ns, fact_id)


@router.delete("/v1/namespaces/{ns}/facts/{fact_id}", response_model=Fact, responses=ERROR_RESPONSES)
def delete_fact(ns: str, fact_id: str, svc: ServiceDep) -> Fact:
    return svc.delete(ns, fact_id)


@router.post("/v1/namespaces/{ns}/recall", response_model=RecallResponse, responses=ERROR_RESPONSES)
def recall(ns: str, body: RecallRequest, svc: ServiceDep) -> RecallResponse:
    return RecallResponse(hits=svc.recall(ns, body.query, limit=body.limit, topic=body.topic))
