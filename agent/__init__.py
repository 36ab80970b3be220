"""The engram agent: a LangGraph graph that remembers, routes to adapters and recalls from weights."""
