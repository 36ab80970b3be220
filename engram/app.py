"""The API with the chat agent wired in: what `engram serve` runs, and `uvicorn engram.app:create_app --factory`.

memory_service.api never imports the agent (imports only run downward); the front door hands it the graph
factory. The agent (and torch) is imported on the first chat request, so the API starts fast.
"""

from __future__ import annotations

from fastapi import FastAPI

from memory_service import api
from memory_service.service import MemoryService
from memory_service.settings import Settings


def chat_graph(service: MemoryService):
    from agent.graph import build_graph

    return build_graph(service.settings, service)


def create_app(settings: Settings | None = None, service: MemoryService | None = None,
               relay: bool = True) -> FastAPI:
    return api.create_app(settings, service, relay, graph_factory=chat_graph)
