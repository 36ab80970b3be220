"""wait_for_tasks: the one loop that waits on consolidation tasks (CLI, demo, evaluations, tests)."""

import pytest

from memory_service.relay import wait_for_tasks


def scripted(states: dict[str, list[str]]):
    """poll(task_id) returns each task's next scripted state (the last one repeats)."""
    seen: dict[str, int] = {}

    def poll(tid: str) -> dict:
        i = seen.get(tid, 0)
        seen[tid] = i + 1
        return {"task_id": tid, "topic": f"t-{tid}", "state": states[tid][min(i, len(states[tid]) - 1)]}

    return poll


def test_returns_once_every_task_has_ended():
    poll = scripted({"a": ["PENDING", "PROGRESS", "SUCCESS"], "b": ["STARTED", "COALESCED"]})
    rounds = []
    out = wait_for_tasks(poll, lambda: ["a", "b"], 5, on_poll=rounds.append, interval_s=0)
    assert [s["state"] for s in out] == ["SUCCESS", "COALESCED"] and len(rounds) == 3


def test_tasks_that_appear_while_waiting_are_waited_for():
    ids = ["a"]
    poll = scripted({"a": ["PENDING", "SUCCESS"], "b": ["PENDING", "FAILURE"]})

    def grow(states):
        if len(ids) == 1:
            ids.append("b")  # the relay enqueued a follow-up

    out = wait_for_tasks(poll, lambda: list(ids), 5, on_poll=grow, interval_s=0)
    assert {s["task_id"]: s["state"] for s in out} == {"a": "SUCCESS", "b": "FAILURE"}


def test_a_timeout_names_what_is_still_running():
    poll = scripted({"a": ["PROGRESS"]})
    with pytest.raises(TimeoutError, match="t-a PROGRESS"):
        wait_for_tasks(poll, lambda: ["a"], 0.05, interval_s=0.01)
