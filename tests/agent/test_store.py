"""The LangGraph BaseStore over engram's short-term tier (real Redis, real stores, real embedder)."""

import asyncio

from agent.store import EngramStore


def test_put_get_search_delete(service):
    store = EngramStore(service)
    ns = ("users", "alice")
    store.put(ns, "home", {"text": "Alice lives in Porvoo", "topic": "home"})
    store.put(ns, "pet", {"content": "Alice's dog is called Pimento"})
    item = store.get(ns, "home")
    assert item.key == "home" and item.value["text"] == "Alice lives in Porvoo" and item.value["topic"] == "home"
    store.put(ns, "home", {"text": "Alice lives in Lima", "topic": "home"})  # same key: replaced
    assert store.get(ns, "home").value["text"] == "Alice lives in Lima"
    hits = store.search(ns, query="Where does Alice live?", limit=1)
    assert hits[0].key == "home" and hits[0].score > 0.3
    assert {t.topic: t.heat for t in service.topics("users.alice")}["home"] > 0  # searches heat facts
    assert {i.key for i in store.search(ns, limit=10)} == {"home", "pet"}
    store.delete(ns, "pet")
    assert store.get(ns, "pet") is None
    assert store.search(("users", "bob"), query="anything") == []
    assert ("users", "alice") in store.list_namespaces(prefix=("users",))


def test_async_interface(service):
    store = EngramStore(service)
    asyncio.run(store.aput(("bob",), "k", {"text": "Bob keeps bees in Tallinn"}))
    assert asyncio.run(store.aget(("bob",), "k")).value["text"] == "Bob keeps bees in Tallinn"
