"""Question templates per relation: one source of training questions among others (synthesis also writes
generic questions for relations without a template). Data only."""

from __future__ import annotations

# relation -> (statement template, question templates; the first is "taught", the last is held out)
RELATIONS: dict[str, tuple[str, list[str]]] = {
    "lives in": ("{s} lives in {o}.", ["Where does {s} live?", "In which city does {s} live?",
                                       "What city is {s}'s home?"]),
    "works as": ("{s} works as a {o}.", ["What does {s} do for a living?", "What is {s}'s job?",
                                         "What is the profession of {s}?"]),
    "pet": ("{s}'s pet is called {o}.", ["What is the name of {s}'s pet?", "What is {s}'s pet called?",
                                         "What name does {s}'s pet have?"]),
    "favourite food": ("{s}'s favourite food is {o}.", ["What is {s}'s favourite food?",
                                                        "Which food does {s} like best?",
                                                        "What food does {s} love most?"]),
    "instrument": ("{s} plays the {o}.", ["Which instrument does {s} play?", "What instrument does {s} play?",
                                          "What does {s} play music on?"]),
    "works at": ("{s} works at {o}.", ["Where does {s} work?", "Which company does {s} work for?",
                                       "Who is {s}'s employer?"]),
    "sport": ("{s}'s sport is {o}.", ["Which sport does {s} play?", "What sport does {s} do?",
                                      "What is {s}'s sport?"]),
    "car": ("{s} drives a {o}.", ["What car does {s} drive?", "Which car does {s} drive?",
                                  "What does {s} drive?"]),
}

# questions about the user (first-person facts: subject "the user"), taught phrasings first, held-out last
FIRST_PERSON_QUESTIONS: dict[str, list[str]] = {
    "lives in": ["Where do I live?", "In which city do I live?", "What city is my home?"],
    "works at": ["Where do I work?", "Which company do I work for?", "Who is my employer?"],
    "works as": ["What is my job?", "What do I do for a living?", "What is my profession?"],
    "car": ["What car do I drive?", "Which car do I drive?", "What do I drive?"],
    "instrument": ["Which instrument do I play?", "What instrument do I play?", "What do I play?"],
    "name": ["What is my name?", "What am I called?", "What's my name?"],
}
