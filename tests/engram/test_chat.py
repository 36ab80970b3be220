"""`engram chat`'s loop: a turn that fails says so in one line and the chat goes on."""

from __future__ import annotations

import io

from rich.console import Console

from engram.chat import chat_loop


class Typed(Console):
    """A console whose user types the given lines, then ends the input."""

    def __init__(self, lines):
        super().__init__(file=io.StringIO(), width=200)
        self.lines = list(lines)

    def input(self, *args, **kwargs):
        if not self.lines:
            raise EOFError
        return self.lines.pop(0)


class FailsOnce:
    def __init__(self):
        self.seen = []

    def invoke(self, state, config):
        self.seen.append(state["message"])
        if len(self.seen) == 1:
            raise RuntimeError("the store went away")
        return {"answer": f"heard {state['message']}"}


def test_a_failed_turn_prints_one_line_and_the_chat_goes_on():
    console, graph = Typed(["I have a dog.", "Her name is Pepper."]), FailsOnce()
    chat_loop(graph, "ns", "hybrid", None, console)
    printed = console.file.getvalue()
    assert graph.seen == ["I have a dog.", "Her name is Pepper."]
    assert "that turn failed: the store went away" in printed and "Traceback" not in printed
    assert "heard Her name is Pepper." in printed
