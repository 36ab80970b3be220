"""The short-term memory use cases: write (dedupe, supersede, topic), get, list, delete, recall, topics.

The service process is the only one that opens an embedded store (DESIGN §3); everything else goes through it.
"""

from __future__ import annotations

import threading
import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timezone
from typing import Any

import numpy as np

from language.lexicon import ENDS

from .embed import Embedder
from .errors import InvalidInput, NotFound
from .heat import HeatTracker
from .llm import from_settings as llm_from_settings
from .redis_conn import connect_redis
from .schemas import (
    Fact,
    FactIn,
    FactStatus,
    Forgotten,
    MessageResult,
    RecallHit,
    Skipped,
    StoredFact,
    TopicInfo,
    WriteOutcome,
    WriteResult,
    check_namespace,
    check_topic,
    shown,
)
from .settings import Settings
from .store import FactFilter, FactStore, Point, open_store
from .topics import Centroids, home_topic, new_topic_name, topic_of_relation

ACTIVE = (FactStatus.active.value,)


def _norm(value: str | None) -> str | None:
    return " ".join(value.lower().split()) if value else None


def _replaces(fact: FactIn, subject: str | None, relation: str | None, obj: str | None) -> bool:
    """A fact with the subject and relation of another and another object replaces it, however near their texts
    are ("The user's phone number is 07700 900882." is not a duplicate of "... 07700 900461.")."""
    return bool(fact.subject and fact.relation and fact.object) and (
        _norm(fact.subject) == _norm(subject) and _norm(fact.relation) == _norm(relation)
        and _norm(fact.object) != _norm(obj))


def fact_from_payload(fid: str, p: dict[str, Any]) -> Fact:
    return Fact(
        id=fid, namespace=p["namespace"], topic=p["topic"], text=p["text"], subject=p.get("subject"),
        relation=p.get("relation"), object=p.get("object"), source=p.get("source"),
        created_at=datetime.fromtimestamp(p["created_ts"], timezone.utc), status=p.get("status", "active"),
        supersedes=p.get("supersedes"), superseded_by=p.get("superseded_by"),
        consolidated_in=p.get("consolidated_in"), speaker=p.get("speaker"), derived_from=p.get("derived_from"),
        said_at=datetime.fromtimestamp(p["said_ts"], timezone.utc) if p.get("said_ts") is not None else None,
        qualifier=p.get("qualifier"), context=p.get("context"),
    )


@dataclass
class _Planned:
    index: int
    fact: FactIn
    text: str
    vector: np.ndarray
    topic: str | None
    result: WriteResult | None = None


class MemoryService:
    def __init__(self, settings: Settings, *, embedder: Embedder | None = None, store: FactStore | None = None,
                 heat: HeatTracker | None = None):
        self.settings = settings
        self.embedder = embedder or Embedder(settings.embedder, threads=settings.torch_threads,
                                             backend=settings.embedder_backend, cache_dir=settings.model_cache_dir)
        if heat is None:
            client, self.redis_url = connect_redis(settings)
            heat = HeatTracker(client, settings.heat, settings.redis.key_prefix)
        else:
            self.redis_url = settings.redis.url
        self.heat = heat
        self.store = store or open_store(settings, self.embedder.dim)
        self._write_lock = threading.RLock()  # dedupe and supersede decisions must see earlier writes
        self._centroids: dict[str, Centroids] = {}
        # an OpenAI-compatible endpoint that reads facts, when configured (memory_service.llm)
        self.llm = llm_from_settings(settings, self.heat.r)

    def close(self) -> None:
        self.store.close()

    def __enter__(self) -> "MemoryService":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # validation ---------------------------------------------------------------------------------------
    def _check_text(self, text: str, field: str) -> str:
        if not isinstance(text, str) or not text.strip():
            raise InvalidInput(f"{field} is empty", field=field)
        text = " ".join(text.split())
        if len(text) > self.settings.max_text_chars:
            raise InvalidInput(
                f"{field} has {len(text)} characters; the limit is {self.settings.max_text_chars}", field=field
            )
        return text

    def _check_fact_id(self, fact_id: str) -> str:
        try:
            return str(uuid.UUID(str(fact_id)))
        except ValueError:
            raise InvalidInput(f"invalid fact id {fact_id!r}: expected a UUID", field="fact_id") from None

    def _require_namespace(self, ns: str) -> None:
        check_namespace(ns)
        if self.store.count(FactFilter(namespace=ns)) == 0:
            raise NotFound(f"namespace {ns!r} has no facts", field="namespace")

    # centroids --------------------------------------------------------------------------------------------
    def centroids(self, ns: str) -> Centroids:
        if ns not in self._centroids:
            c = Centroids(self.embedder.dim)
            for r in self.store.scroll_all(FactFilter(namespace=ns, status=ACTIVE), with_vector=True):
                c.add(r.payload["topic"], r.vector)
            self._centroids[ns] = c
        return self._centroids[ns]

    # write -----------------------------------------------------------------------------------------------
    def write(self, ns: str, facts: list[FactIn], ids: list[str] | None = None) -> list[WriteResult]:
        """Write a batch: all of it or, on any bad input or unreachable service, none of it.

        `ids` (optional, one per fact) are caller-chosen keys: such a write replaces the fact with that id
        instead of being checked for near-duplicates (the LangGraph store's put semantics)."""
        check_namespace(ns)
        if not facts:
            raise InvalidInput("facts is empty", field="facts")
        if len(facts) > self.settings.max_batch:
            raise InvalidInput(f"{len(facts)} facts in one write; the limit is {self.settings.max_batch}",
                               field="facts")
        texts = [self._check_text(f.text, f"facts[{i}].text") for i, f in enumerate(facts)]
        for i, f in enumerate(facts):
            if f.topic is not None:
                check_topic(f.topic, f"facts[{i}].topic")
        if ids is not None:
            if len(ids) != len(facts):
                raise InvalidInput("ids and facts differ in length", field="ids")
            ids = [self._check_fact_id(i) for i in ids]
        self.heat.ping()  # fail before touching the store if Redis is down
        vectors = self.embedder.embed([shown(t, f.context, f.speaker, f.subject) for f, t in zip(facts, texts)])
        with self._write_lock:
            return self._write_locked(ns, facts, texts, vectors, ids)

    def _write_locked(self, ns: str, facts: list[FactIn], texts: list[str], vectors: np.ndarray,
                      ids: list[str] | None = None):
        s = self.settings
        plans = [_Planned(i, f, texts[i], vectors[i], f.topic) for i, f in enumerate(facts)]
        # 1. near-duplicates of stored active facts (one batched search) and of earlier facts in this batch
        nearest = self.store.search_batch(vectors, FactFilter(namespace=ns, status=ACTIVE), 1)
        accepted: list[_Planned] = []
        twins: list[tuple[_Planned, _Planned]] = []
        is_accepted = np.zeros(len(plans), dtype=bool)
        close = (vectors @ vectors.T) >= s.duplicate_threshold  # in-batch near-duplicates, one matrix product
        for plan, hits in zip(plans, nearest):
            if ids is not None:  # explicit key: replace, never deduplicate
                plan.result = WriteResult(id=ids[plan.index], outcome=WriteOutcome.created, topic="")
                accepted.append(plan)
                continue
            if hits and hits[0].score is not None and hits[0].score >= s.duplicate_threshold \
                    and not _replaces(plan.fact, *(hits[0].payload.get(k) for k in ("subject", "relation", "object"))):
                plan.result = WriteResult(id=hits[0].id, outcome=WriteOutcome.duplicate, topic=hits[0].payload["topic"])
                continue
            earlier = [i for i in np.flatnonzero(is_accepted & close[plan.index]) if not _replaces(
                plan.fact, plans[i].fact.subject, plans[i].fact.relation, plans[i].fact.object)]
            if earlier:
                twin = plans[earlier[0]]
                plan.result = WriteResult(id=twin.result.id, outcome=WriteOutcome.duplicate, topic="")
                twins.append((plan, twin))
                continue
            plan.result = WriteResult(id=str(uuid.uuid4()), outcome=WriteOutcome.created, topic="")
            accepted.append(plan)
            is_accepted[plan.index] = True
        # 2. topics: explicit, nearest centroid, or a new one
        cents = self.centroids(ns)
        for plan in accepted:
            if plan.topic is None:
                plan.topic = cents.nearest(plan.vector, s.topic_threshold) or new_topic_name(
                    plan.text, set(cents.sums), plan.fact.subject)
            plan.result.topic = plan.topic
            cents.add(plan.topic, plan.vector)  # later facts in the batch may join this topic
        for plan, twin in twins:
            plan.result.topic = twin.topic
        # 3. supersede: same subject+relation, other object, still active
        keyed = [p for p in accepted if p.fact.subject and p.fact.relation]
        current: dict[tuple[str, str], tuple[str, dict]] = {}
        if keyed:
            subjects = tuple(sorted({_norm(p.fact.subject) for p in keyed}))
            for r in self.store.scroll_all(FactFilter(namespace=ns, status=ACTIVE, subject_key=subjects)):
                current[(r.payload["subject_key"], _norm(r.payload.get("relation")))] = (r.id, r.payload)
        superseded: dict[str, dict] = {}
        ended: dict[str, tuple[dict, str]] = {}  # old id -> (its payload, the id of the fact that ends it)
        now = self.heat.clock()  # the heat clock: evaluations advance it
        points: list[Point] = []
        for plan in accepted:
            f = plan.fact
            payload = {
                "namespace": ns, "topic": plan.topic, "text": plan.text, "subject": f.subject,
                "subject_key": _norm(f.subject), "relation": f.relation, "object": f.object, "source": f.source,
                "created_ts": now, "status": FactStatus.active.value, "supersedes": None, "superseded_by": None,
                "consolidated_in": None, "speaker": f.speaker, "derived_from": f.derived_from,
                "said_ts": f.said_at.timestamp() if f.said_at is not None else None, "qualifier": f.qualifier,
                "context": f.context,
            }
            for relation in ENDS.get(_norm(f.relation), ()) if f.subject and f.object else ():
                # "I left Brisk Dental": "works at Brisk Dental" is over
                old = current.get((_norm(f.subject), relation))
                if old is not None and _norm(old[1].get("object")) == _norm(f.object):
                    ended[old[0]] = (old[1], plan.result.id)
            if f.subject and f.relation:
                key = (_norm(f.subject), _norm(f.relation))
                old = current.get(key)
                if old is not None and _norm(old[1].get("object")) != _norm(f.object):
                    payload["supersedes"] = old[0]
                    plan.result.supersedes = old[0]
                    superseded[old[0]] = old[1]
                current[key] = (plan.result.id, payload)
            points.append(Point(plan.result.id, plan.vector, payload))
        # in-batch chains: a fact written and superseded in the same batch is stored as superseded
        for pt in points:
            sup = pt.payload["supersedes"]
            if sup is not None and any(p.id == sup for p in points):
                next(p for p in points if p.id == sup).payload.update(status="superseded", superseded_by=pt.id)
                superseded.pop(sup, None)
        by = {old_id: new_id for old_id, (_, new_id) in ended.items() if old_id not in superseded}
        superseded.update({old_id: payload for old_id, (payload, _) in ended.items() if old_id in by})
        self._apply_write(ns, points, superseded, by)
        return [p.result for p in plans]

    def _apply_write(self, ns: str, points: list[Point], superseded: dict[str, dict],
                     ended_by: dict[str, str] | None = None) -> None:
        """Store the points; mark what they supersede (`ended_by`: old id -> the fact that ended it, for a
        fact that ends another without taking its place)."""
        self.store.upsert(points)
        by_id = {p.id: p for p in points}
        try:
            for old_id in superseded:
                new_id = (ended_by or {}).get(old_id) or next(p.id for p in points if p.payload["supersedes"] == old_id)
                self.store.set_payload([old_id], {"status": FactStatus.superseded.value, "superseded_by": new_id})
            self.heat.add_pending(ns, [(p.id, p.payload["topic"], p.payload["created_ts"])
                                       for p in points if p.payload["status"] == "active"])
            self.heat.forget(ns, [(fid, p["topic"]) for fid, p in superseded.items()])
            self._mark_stale(ns, superseded.values())
        except Exception:
            # compensate so that a failed write leaves nothing behind
            self.store.delete(list(by_id))
            for old_id in superseded:
                self.store.set_payload([old_id], {"status": FactStatus.active.value, "superseded_by": None})
            self._centroids.pop(ns, None)
            raise
        if superseded or any(p.payload["status"] != "active" for p in points):
            self._centroids.pop(ns, None)  # rebuilt from the store on next use

    def _mark_stale(self, ns: str, payloads) -> None:
        topics = {p["topic"] for p in payloads if p.get("consolidated_in")}
        for t in topics:
            self.heat.mark_stale(ns, t)

    # read ------------------------------------------------------------------------------------------------
    def get(self, ns: str, fact_id: str) -> Fact:
        check_namespace(ns)
        fid = self._check_fact_id(fact_id)
        found = self.store.retrieve([fid])
        if not found or found[0].payload.get("namespace") != ns:
            raise NotFound(f"fact {fid} not found in namespace {ns!r}", field="fact_id")
        return fact_from_payload(found[0].id, found[0].payload)

    def list(self, ns: str, *, topic: str | None = None, status: str | None = "active", limit: int = 100,
             offset: str | None = None) -> tuple[list[Fact], str | None]:
        self._require_namespace(ns)
        if topic is not None:
            check_topic(topic)
        if status is not None and status not in FactStatus.__members__:
            raise InvalidInput(f"invalid status {status!r}: one of {', '.join(FactStatus.__members__)}",
                               field="status")
        if offset is not None:
            offset = self._check_fact_id(offset)
        records, nxt = self.store.scroll(
            FactFilter(namespace=ns, topic=topic, status=(status,) if status else None), limit, offset)
        return [fact_from_payload(r.id, r.payload) for r in records], nxt

    def all_active(self, ns: str, topic: str | None = None) -> list[Fact]:
        records = self.store.scroll_all(FactFilter(namespace=ns, topic=topic, status=ACTIVE))
        return [fact_from_payload(r.id, r.payload) for r in records]

    # delete ----------------------------------------------------------------------------------------------
    def delete(self, ns: str, fact_id: str) -> Fact:
        """Soft delete: the fact is never recalled again; its topic's adapter goes stale if it held it.
        A statement goes with every fact read from it; a fact read from a statement takes the statement with it
        (the words that said it would otherwise still be recalled)."""
        fact = self.get(ns, fact_id)
        if fact.status == FactStatus.deleted:
            return fact
        linked = self.linked(ns, fact)
        with self._write_lock:
            self.heat.ping()
            for f in [fact, *linked]:
                self.store.set_payload([f.id], {"status": FactStatus.deleted.value})
                self.heat.forget(ns, [(f.id, f.topic)])
                if f.consolidated_in:
                    self.heat.mark_stale(ns, f.topic)
            self._centroids.pop(ns, None)
        return fact.model_copy(update={"status": FactStatus.deleted})

    def linked(self, ns: str, fact: Fact) -> list[Fact]:
        """The active facts that go with `fact`: those read from it, or the statement it was read from."""
        if fact.derived_from:
            found = self.store.retrieve([fact.derived_from])
            return [fact_from_payload(r.id, r.payload) for r in found
                    if r.payload.get("namespace") == ns and r.payload.get("status") == FactStatus.active.value]
        return [fact_from_payload(r.id, r.payload) for r in self.store.scroll_all(
            FactFilter(namespace=ns, status=ACTIVE, derived_from=(fact.id,)))]

    # messages --------------------------------------------------------------------------------------------
    def write_message(self, ns: str, text: str, speaker: str = "user", said_at: datetime | None = None,
                      source: str | None = None, addressee: str | None = None) -> MessageResult:
        """Everything a message states: each statement verbatim (attributed to `speaker`, with `said_at`),
        and beside it the facts read from it, linked back ("you" is `addressee`, whom a transcript's speaker
        talks to). Questions and small talk are returned, not stored. The statements are written first: a
        failure reading or writing the facts never loses them."""
        from language.intake import read_message, subject_of

        check_namespace(ns)
        text = self._check_text(text, "text")
        said_at = said_at or datetime.fromtimestamp(self.heat.clock(), timezone.utc)
        intake = self._with_llm_facts(read_message(text, speaker, addressee))
        result = MessageResult(questions=[s.text for s in intake.questions],
                               skipped=[Skipped(text=s.text, reason=s.why or s.kind) for s in intake.skipped],
                               forgotten=[self.forget(ns, s.text, speaker, everything=s.everything)
                                          for s in intake.forget])
        result.forgotten += [Forgotten(request=s.text, withdrawn=[s.text]) for s in intake.withdrawn]
        statements = intake.statements
        if not statements:
            return result
        # a statement goes to the area its facts name; else to the message's area (a message is mostly about
        # one thing); else to the speaker's home topic, never a new topic of its own
        owner = subject_of(speaker)
        to = subject_of(addressee) if addressee else None

        def area(t) -> str | None:  # the speaker's area, or the addressee's for what is said of them ("you left")
            return topic_of_relation(t.subject, t.relation, owner) or (
                topic_of_relation(t.subject, t.relation, to) if to else None)

        topics = [next(filter(None, (area(t) for t in s.triples)), None) for s in statements]
        message_topic = next(filter(None, topics), None) or home_topic(owner)
        topics = [t or message_topic for t in topics]
        written = self.write(ns, [FactIn(text=s.text, topic=topic, speaker=speaker, said_at=said_at, source=source,
                                         context=s.context)
                                  for s, topic in zip(statements, topics)])
        result.stored += [StoredFact(id=r.id, text=s.text, topic=r.topic, outcome=r.outcome, kind="statement",
                                     why=s.why) for r, s in zip(written, statements)]
        pairs = [(r, t) for r, triples in zip(written, self._as_changes(ns, statements, owner)) for t in triples]
        if not pairs:
            return result
        facts = [FactIn(text=t.text, topic=area(t) or r.topic,
                        subject=t.subject, relation=t.relation, object=t.object, qualifier=t.qualifier,
                        derived_from=r.id, speaker=speaker, said_at=said_at, source=source) for r, t in pairs]
        for (r, t), w in zip(pairs, self.write(ns, facts)):
            result.stored.append(StoredFact(id=w.id, text=t.text, topic=w.topic, outcome=w.outcome, kind="fact",
                                            derived_from=r.id, supersedes=w.supersedes, subject=t.subject,
                                            relation=t.relation, object=t.object, qualifier=t.qualifier))
            if w.supersedes:
                self._retire_statement_of(ns, w.supersedes, r.id)
        return result

    def _as_changes(self, ns: str, statements: list, owner: str) -> list[tuple]:
        """Each statement's triples, with a new value said in passing given the relation of the stored one it
        replaces ("I quit Halden Freight and joined Pellam Foods": work at Pellam Foods), so that it supersedes
        it (language.changes). The speaker's facts are read once, and only for a message that marks a change."""
        from language.changes import resolved
        from language.lexicon import ENDS

        if not any(s.change.marked or any(t.relation in ENDS for t in s.triples) for s in statements):
            return [s.triples for s in statements]
        current = {r.payload.get("relation"): r.payload.get("object") for r in self.store.scroll_all(
            FactFilter(namespace=ns, status=ACTIVE, subject_key=(_norm(owner),)))
            if r.payload.get("relation") and r.payload.get("object")}
        return [resolved(s.triples, s.change, owner, current) for s in statements]

    def _with_llm_facts(self, intake):
        """With an LLM configured, the facts of each statement are the ones it reads (validated); when it fails,
        the parse's stay (the fallback is counted)."""
        statements = intake.statements
        if self.llm is None or not statements:
            return intake
        from language.extraction import Triple, statement
        from language.intake import subject_of

        who = subject_of(intake.speaker)
        read = self.llm.extract([s.text for s in statements], intake.speaker, who)
        if read is None:
            return intake
        by_text = {s.text: [Triple(t.subject, t.relation, t.object, statement(t.subject, t.relation, t.object),
                                   t.qualifier) for t in triples] for s, triples in zip(statements, read)}
        return type(intake)(intake.speaker, [  # the sentence as read (its context kept), with the LLM's facts
            replace(s, triples=tuple(by_text[s.text]), why=s.why if not by_text[s.text] else None)
            if s.kind == "statement" else s for s in intake.sentences])

    def forget(self, ns: str, request: str, speaker: str = "user", min_score: float = 0.6,
               margin: float = 0.05, everything: bool = False) -> Forgotten:
        """Delete what `request` names ("my rent", "I drive a red Halvik"): the stored statement that best
        matches it, with the facts read from it (or a fact and its statement). A statement matches when it says a
        word the request is about ("rent"; a name the speaker's facts give what the request names: "my ex" is
        "Dario Vell") or its meaning is at least `min_score` near; the best says the most of those words, then
        is nearest. When another matches as well within `margin`, nothing is deleted and both are returned as
        candidates: the agent asks which one. `everything`: every statement that matches. An empty request is
        the last statement the speaker stored ("Please don't keep that.")."""
        from language.forgetting import about_words, called_words, shared
        from language.intake import subject_of

        out = Forgotten(request=request)
        try:
            if not request.strip():
                return self._forget_last(ns, speaker, out)
            hits = self.recall(ns, request, limit=50, record_heat=False)
        except NotFound:
            return out
        words, called = about_words(request), called_words(request)
        owner = subject_of(speaker)
        # "my ex" is Dario Vell: what was said of Dario Vell is about the user's ex too
        names = {h.fact.object for h in hits if h.fact.subject == owner and h.fact.relation and h.fact.object
                 and about_words(h.fact.relation) and about_words(h.fact.relation) <= words}
        for name in sorted(names):
            words |= about_words(name)
            hits += self.recall(ns, name, limit=50, record_heat=False)
        # statement (or lone fact) id -> (request's words said, words of what it calls the fact said, nearness)
        groups: dict[str, tuple[int, int, float]] = {}
        for h in hits:
            text = about_words(h.fact.text)
            said, also = shared(words, text), shared(called, text)
            if said == 0 and also == 0 and h.score < min_score:
                continue
            key = h.fact.derived_from or h.fact.id
            groups[key] = max(groups.get(key, (0, 0, 0.0)), (said, also, h.score))
        ranked = sorted(groups.items(), key=lambda g: (-g[1][0], -g[1][1], -g[1][2]))
        if not ranked:
            return out
        if everything:
            chosen = [key for key, _ in ranked]
        elif len(ranked) > 1 and ranked[1][1][:2] == ranked[0][1][:2] and ranked[0][1][2] - ranked[1][1][2] < margin:
            out.candidates = [self.get(ns, key) for key, _ in ranked[:3]]  # the statements, as they were said
            return out
        else:
            chosen = [ranked[0][0]]
        for key in chosen:
            out.deleted += self._delete_with_linked(ns, self.get(ns, key))
        return out

    def _delete_with_linked(self, ns: str, head: Fact) -> list[Fact]:
        """Delete a statement (or fact) with what is linked to it; returns them as deleted."""
        gone = [head, *(f for f in self.linked(ns, head) if f.id != head.id)]
        self.delete(ns, head.id)
        return [f.model_copy(update={"status": FactStatus.deleted}) for f in gone]

    def _forget_last(self, ns: str, speaker: str, out: Forgotten) -> Forgotten:
        """Delete the last statement `speaker` stored in `ns` (and its facts)."""
        said = [f for f in self.all_active(ns) if f.derived_from is None and (f.speaker or "user") == speaker]
        if not said:
            return out
        head = max(said, key=lambda f: (f.said_at or f.created_at, f.created_at))
        out.request, out.deleted = head.text, self._delete_with_linked(ns, head)
        return out

    def _retire_statement_of(self, ns: str, old_fact_id: str, new_statement_id: str) -> None:
        """A superseded fact's statement is superseded too once none of the facts read from it is active
        ("I live in Porvoo" stops being recalled after "I moved to Arlow Point")."""
        found = self.store.retrieve([old_fact_id])
        statement_id = found[0].payload.get("derived_from") if found else None
        if not statement_id or statement_id == new_statement_id:
            return
        if self.store.scroll_all(FactFilter(namespace=ns, status=ACTIVE, derived_from=(statement_id,))):
            return
        old = self.store.retrieve([statement_id])
        if not old or old[0].payload.get("status") != FactStatus.active.value:
            return
        with self._write_lock:
            self.store.set_payload([statement_id], {"status": FactStatus.superseded.value,
                                                    "superseded_by": new_statement_id})
            self.heat.forget(ns, [(statement_id, old[0].payload["topic"])])
            self._mark_stale(ns, [old[0].payload])
            self._centroids.pop(ns, None)

    # recall ----------------------------------------------------------------------------------------------
    def recall(self, ns: str, query: str, *, limit: int | None = None, topic: str | None = None,
               record_heat: bool = True, vector: np.ndarray | None = None) -> list[RecallHit]:
        self._require_namespace(ns)
        query = self._check_text(query, "query")
        if topic is not None:
            check_topic(topic)
        limit = limit or self.settings.recall_limit
        if not 1 <= limit <= 100:
            raise InvalidInput(f"limit {limit} is out of range 1..100", field="limit")
        if vector is None:
            vector = self.embedder.embed_one(query)
        hits = self.search_vector(ns, vector, limit=limit, topic=topic)
        if record_heat and hits:
            heats, _ = self.heat.hit(ns, [(r.id, r.payload["topic"]) for r in hits])
        else:
            heats = self.heat.fact_heat(ns, [r.id for r in hits])
        return [RecallHit(fact=fact_from_payload(r.id, r.payload), score=r.score, heat=h)
                for r, h in zip(hits, heats)]

    def search_vector(self, ns: str, vector: np.ndarray, *, limit: int, topic: str | None = None):
        hits = self.store.search(vector, FactFilter(namespace=ns, topic=topic, status=ACTIVE), limit)
        return [h for h in hits if (h.score or 0.0) >= self.settings.recall_min_score]

    # topics ----------------------------------------------------------------------------------------------
    def topics(self, ns: str) -> list[TopicInfo]:
        self._require_namespace(ns)
        counts: dict[str, int] = {}
        for r in self.store.scroll_all(FactFilter(namespace=ns, status=ACTIVE)):
            counts[r.payload["topic"]] = counts.get(r.payload["topic"], 0) + 1
        return [
            TopicInfo(namespace=ns, topic=t.topic, facts=counts.get(t.topic, 0), unconsolidated=t.unconsolidated,
                      hot=t.hot, heat=round(t.heat, 6), due=t.due, stale=t.stale)
            for t in self.heat.topics(ns, counts)
        ]

    def sweep(self, ns: str) -> list[str]:
        """Re-check every topic of a namespace for due-ness (beat)."""
        return self.heat.sweep(ns, {r.payload["topic"] for r in self.store.scroll_all(FactFilter(namespace=ns))})

    def health(self) -> dict[str, str]:
        out = {}
        try:
            self.heat.ping()
            out["redis"] = "ok"
        except Exception as exc:  # report, don't raise: this is the health endpoint
            out["redis"] = f"error: {exc}"
        try:
            self.store.count(FactFilter(namespace="__health__"))
            out["qdrant"] = "ok"
        except Exception as exc:
            out["qdrant"] = f"error: {exc}"
        return out
