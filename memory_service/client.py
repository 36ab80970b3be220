"""HTTP client for a running engram API, with the same methods as MemoryService (used by the CLI's --api)."""

from __future__ import annotations

import httpx

from .errors import EngramError, Forbidden, InvalidInput, NotFound, ServiceUnavailable, Unauthorized
from .schemas import Fact, FactIn, RecallHit, TopicInfo, WriteResult


class ApiClient:
    """`api_key`: sent as a bearer token (Settings.api_key, i.e. ENGRAM_API_KEY, for the CLI)."""

    def __init__(self, base_url: str, api_key: str | None = None, timeout: float = 30.0):
        headers = {"Authorization": f"Bearer {api_key}"} if api_key else {}
        self._http = httpx.Client(base_url=base_url.rstrip("/"), headers=headers, timeout=timeout)

    def _call(self, method: str, path: str, **kwargs) -> httpx.Response:
        try:
            resp = self._http.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise ServiceUnavailable("api", f"{self._http.base_url}: {exc}") from exc
        if resp.status_code >= 400:
            try:
                body = resp.json()
            except ValueError:
                body = {"error": resp.text}
            message, field = body.get("error", resp.text), body.get("field")
            cls = {401: Unauthorized, 403: Forbidden, 404: NotFound, 422: InvalidInput}.get(resp.status_code)
            if resp.status_code == 503:
                raise ServiceUnavailable("api", message)
            raise (cls or EngramError)(message, field=field)
        return resp

    def write(self, ns: str, facts: list[FactIn]) -> list[WriteResult]:
        body = {"facts": [f.model_dump(exclude_none=True) for f in facts]}
        return [WriteResult(**r) for r in self._call("POST", f"/v1/namespaces/{ns}/facts", json=body).json()["results"]]

    def get(self, ns: str, fact_id: str) -> Fact:
        return Fact(**self._call("GET", f"/v1/namespaces/{ns}/facts/{fact_id}").json())

    def list(self, ns: str, *, topic=None, status="active", limit=100, offset=None):
        params = {k: v for k, v in dict(topic=topic, status=status or "", limit=limit, offset=offset).items()
                  if v is not None}
        body = self._call("GET", f"/v1/namespaces/{ns}/facts", params=params).json()
        return [Fact(**f) for f in body["facts"]], body.get("next_offset")

    def delete(self, ns: str, fact_id: str) -> Fact:
        return Fact(**self._call("DELETE", f"/v1/namespaces/{ns}/facts/{fact_id}").json())

    def recall(self, ns: str, query: str, *, limit=None, topic=None) -> list[RecallHit]:
        body = {"query": query, "limit": limit, "topic": topic}
        return [RecallHit(**h) for h in self._call("POST", f"/v1/namespaces/{ns}/recall", json=body).json()["hits"]]

    def topics(self, ns: str) -> list[TopicInfo]:
        return [TopicInfo(**t) for t in self._call("GET", f"/v1/namespaces/{ns}/topics").json()]

    def consolidate(self, ns: str, topic: str) -> list[str]:
        return self._call("POST", f"/v1/namespaces/{ns}/consolidations", json={"topic": topic}).json()["task_ids"]

    def consolidation(self, ns: str, task_id: str) -> dict:
        return self._call("GET", f"/v1/namespaces/{ns}/consolidations/{task_id}").json()

    def close(self) -> None:
        self._http.close()
