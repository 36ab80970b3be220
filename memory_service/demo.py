"""`engram demo`: the short-term loop on the embedded default — write, recall until hot, show due topics."""

from __future__ import annotations

from rich.console import Console
from rich.progress import track

from .schemas import FactIn
from .service import MemoryService
from .settings import Settings

# A fictional person, so no model can know these facts beforehand.
DEMO_FACTS: list[tuple[str, str, str, str, str]] = [
    # topic, subject, relation, object, text
    ("family", "Tamsin Oduya", "sister", "Brielle", "Tamsin Oduya's sister is called Brielle"),
    ("family", "Tamsin Oduya", "father", "Costel", "Tamsin Oduya's father is called Costel"),
    ("family", "Tamsin Oduya", "dog", "Pimento", "Tamsin Oduya's dog is named Pimento"),
    ("family", "Tamsin Oduya", "grandmother lives in", "Varkaus", "Tamsin Oduya's grandmother lives in Varkaus"),
    ("family", "Tamsin Oduya", "son", "Emrik", "Tamsin Oduya's son is called Emrik"),
    ("work", "Tamsin Oduya", "employer", "Quillfeather Labs", "Tamsin Oduya works at Quillfeather Labs"),
    ("work", "Tamsin Oduya", "job", "tide-gauge engineer", "Tamsin Oduya works as a tide-gauge engineer"),
    ("work", "Tamsin Oduya", "manager", "Oskar Lindqvist", "Tamsin Oduya's manager is Oskar Lindqvist"),
    ("work", "Tamsin Oduya", "office", "Pier 9", "Tamsin Oduya's office is at Pier 9"),
    ("work", "Tamsin Oduya", "project", "Saltline", "Tamsin Oduya leads the Saltline project"),
    ("home", "Tamsin Oduya", "city", "Porvoo", "Tamsin Oduya lives in Porvoo"),
    ("home", "Tamsin Oduya", "street", "Kuninkaantie", "Tamsin Oduya lives on Kuninkaantie street"),
    ("home", "Tamsin Oduya", "car", "a green Tatra", "Tamsin Oduya drives a green Tatra"),
]

DEMO_QUESTIONS: list[str] = [
    "What is the name of Tamsin's sister?", "Who is Tamsin's father?", "What is Tamsin's dog called?",
    "Where does Tamsin's grandmother live?", "What is Tamsin's son called?",
    "Where does Tamsin work?", "What is Tamsin's job?", "Who is Tamsin's manager?",
    "Where is Tamsin's office?", "Which project does Tamsin lead?",
]


def run_demo(settings: Settings, namespace: str, console: Console, rounds: int = 3) -> None:
    console.rule("[bold]engram demo: short-term memory")
    console.print(f"data dir: {settings.data_dir}")
    with MemoryService(settings) as svc:
        console.print(f"redis: {svc.redis_url}   store: {type(svc.store).__name__}")
        facts = [FactIn(topic=t, subject=s, relation=r, object=o, text=x) for t, s, r, o, x in DEMO_FACTS]
        results = svc.write(namespace, facts)
        created = sum(r.outcome.value == "created" for r in results)
        console.print(f"wrote {len(results)} facts ({created} new, {len(results) - created} already known)")
        for _ in track(range(rounds), description="recalling", console=console):
            for q in DEMO_QUESTIONS:
                svc.recall(namespace, q, limit=1)
        last = {q: svc.recall(namespace, q, limit=1, record_heat=False) for q in DEMO_QUESTIONS[:4]}
        for q, hits in last.items():
            console.print(f"  {q} -> {hits[0].fact.text if hits else '(nothing)'}")
        from .cli import topics_table

        console.print(topics_table(svc.topics(namespace)))
        due_topics = [t.topic for t in svc.topics(namespace) if t.due]
        console.print(f"due for consolidation: {', '.join(due_topics) or 'none yet'} "
                      f"(events on the Redis stream {svc.heat.stream})")
