"""engram eval's live rows: one per consolidation, with its topic, epoch and loss, then what it published."""

import io

from rich.console import Console
from rich.progress import Progress

from evals.runner import consolidation_line, show_consolidations


def test_a_training_task_shows_its_epoch_and_loss_then_its_outcome():
    training = {"task_id": "t1", "topic": "pets", "state": "PROGRESS",
                "info": {"step": 12, "total_steps": 40, "epoch": 3, "loss": 0.4567}}
    assert consolidation_line(training) == ("pets training", "epoch 3 loss 0.457", 40, 12)
    loading = {"task_id": "t1", "topic": "pets", "state": "PROGRESS", "info": {"phase": "load"}}
    assert consolidation_line(loading) == ("pets training", "load", None, 0)
    done = {"task_id": "t1", "topic": "pets", "state": "SUCCESS",
            "info": {"status": "published", "version": 2, "gate": {"validation": 0.9}}}
    assert consolidation_line(done) == ("pets success", "published v2 validation 0.900", 1, 1)
    queued = {"task_id": "t2", "topic": "work", "state": "PENDING", "info": {}}
    assert consolidation_line(queued) == ("work pending", "", None, 0)


def test_each_task_gets_one_row_that_follows_it():
    bar = Progress(console=Console(file=io.StringIO()))
    rows: dict[str, int] = {}
    show_consolidations(bar, rows, [{"task_id": "t1", "topic": "pets", "state": "PROGRESS",
                                     "info": {"step": 1, "total_steps": 4, "epoch": 1, "loss": 1.0}},
                                    {"task_id": "t0", "topic": "old", "state": "COALESCED", "info": {}}])
    show_consolidations(bar, rows, [{"task_id": "t1", "topic": "pets", "state": "SUCCESS",
                                     "info": {"status": "rejected", "gate": {"validation": 0.5}}}])
    assert list(rows) == ["t1"]  # a coalesced task ran as another one: no row
    row = bar.tasks[rows["t1"]]
    assert (row.description, row.fields["detail"], row.finished) == ("pets success", "rejected validation 0.500",
                                                                    True)
