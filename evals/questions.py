"""Evaluation questions, written by hand and worded independently of every question the synthesizer trains or
validates on (language/templates.py and the generic forms in consolidation/synth.py). Neither the trainer
nor the gate ever sees these; a test fails if any bundled probe normalizes to a synthesizer question.

Two wordings per relation: `direct` asks about the fact much as it was stated, `paraphrase` asks the way a
person might who does not remember how it was put.
"""

from __future__ import annotations

# relation -> (direct, paraphrase), about a named person {s}
ABOUT: dict[str, tuple[str, str]] = {
    "lives in": ("Which town is {s} living in?", "If I wanted to visit {s} at home, which town would I go to?"),
    "works as": ("{s} earns a living as what?", "What line of work is {s} in?"),
    "pet": ("What name does {s}'s pet answer to?", "When {s} calls their pet, which name do they use?"),
    "favourite food": ("Which dish is {s}'s favourite?", "If you cooked for {s}, which dish would please them most?"),
    "instrument": ("On which instrument does {s} perform?", "Which musical instrument can {s} play?"),
    "works at": ("{s} is employed by which company?", "Which firm pays {s}'s salary?"),
    "sport": ("Which sport does {s} take part in?", "In what sport could you watch {s} compete?"),
    "car": ("Which car does {s} own?", "What would I see {s} driving around in?"),
    "phone number": ("How can I reach {s} by phone?", "What number should I dial to call {s}?"),
}

# relation -> (direct, paraphrase), asked by the user about themselves
MINE: dict[str, tuple[str, str]] = {
    "lives in": ("Which town am I living in now?", "Where is my home these days?"),
    "works at": ("Which company employs me?", "Who pays my salary?"),
    "car": ("Which car do I own?", "What am I driving these days?"),
    "instrument": ("Which musical instrument can I play?", "What do I make music with?"),
    "name": ("How am I named?", "Tell me my full name."),
}
# people and pets the user names: one pattern for all of them
KIN = ("Tell me the name of my {r}.", "Remind me, how is my {r} named?")


def about(relation: str, subject: str) -> tuple[str, str]:
    direct, paraphrase = ABOUT[relation]
    return direct.format(s=subject), paraphrase.format(s=subject)


def mine(relation: str) -> tuple[str, str]:
    if relation in MINE:
        return MINE[relation]
    return KIN[0].format(r=relation), KIN[1].format(r=relation)
