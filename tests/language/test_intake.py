"""Intake on the real English pipeline: what is kept, asked or skipped, and the triples read from it."""

from __future__ import annotations

import pytest

from language.intake import read_message, read_messages, subject_of


def triples(text: str, speaker: str = "user") -> set[tuple[str, str, str]]:
    return {(t.subject, t.relation, t.object) for s in read_message(text, speaker).sentences for t in s.triples}


def test_a_message_with_a_statement_and_a_question_keeps_the_statement_and_asks_the_question():
    intake = read_message("I moved to Oslo. Any cafes there?")
    assert [s.text for s in intake.statements] == ["I moved to Oslo."]
    assert [s.text for s in intake.questions] == ["Any cafes there?"]
    assert triples("I moved to Oslo.") == {("the user", "live in", "Oslo")}


@pytest.mark.parametrize("text", ["Hi!", "Thanks a lot!", "haha", "Hi Tobin!", "I'm so tired today.",
                                  "Good morning!", "See you tomorrow!", "Jorund!"])
def test_small_talk_is_skipped_by_the_stated_rule(text):
    intake = read_message(text)
    assert [s.kind for s in intake.sentences] == ["small-talk"]


@pytest.mark.parametrize("text, why", [
    ("I don't have a car.", "negation"),
    ("If I moved to Paris, I would learn French.", "hypothetical"),
    ("I think it's going to rain.", "opinion"),
    ("She loved it.", "vague"),
    ("I'm tired of Ostwin's canteen.", None),  # names a thing: never small talk
])
def test_statements_without_a_triple_are_still_kept(text, why):
    (s,) = read_message(text).sentences
    assert s.kind == "statement"
    if why:
        assert not s.triples and s.why == why


@pytest.mark.parametrize("text, expected", [
    ("My uncle Tavish works as a ferry pilot.", {("the user", "uncle", "Tavish"), ("Tavish", "work as", "ferry pilot")}),
    ("I grew up in Brackenford.", {("the user", "grow up in", "Brackenford")}),
    ("I am allergic to shellfish.", {("the user", "be allergic to", "shellfish")}),
    ("Every winter we ski in Haldor Valley.", {("the user", "ski in", "Haldor Valley")}),
    ("My supervisor at Ostwin is Maren Coyle.", {("the user", "supervisor at Ostwin", "Maren Coyle")}),
    ("My dentist Ada Brennock can be reached at 415-555-0192.",
     {("the user", "dentist", "Ada Brennock"), ("Ada Brennock", "phone number", "415-555-0192")}),
    ("Our dog Pepper is now called Juniper.", {("the user", "dog", "Juniper")}),
    ("My sister Ana lives in Lund and works at Brisk Dental.",
     {("the user", "sister", "Ana"), ("Ana", "live in", "Lund"), ("Ana", "work at", "Brisk Dental")}),
])
def test_triples_from_the_parse(text, expected):
    assert triples(text) == expected


@pytest.mark.parametrize("text, expected", [
    # names said the way people say them
    ("I'm Wrenna, by the way.", {("the user", "name", "Wrenna")}),  # and nothing "by the way"
    ("Mum's called Pella.", {("the user", "mum", "Pella")}),  # the parser reads "'s called" as a possessive
    ("My sister's Marisol.", {("the user", "sister", "Marisol")}),  # no verb in the parse at all
    ("We've got a cat, Biscuit.", {("the user", "cat", "Biscuit"), ("the user", "have", "cat")}),
    ("Dad, Osgar, retired after forty years as a tram driver.",
     {("the user", "dad", "Osgar"), ("Dad", "retire after", "forty years"), ("Dad", "work as", "tram driver")}),
    ("My neighbour Tamsin bought an old van and named it the Rusty Heron.",
     {("the user", "neighbour", "Tamsin"), ("Tamsin", "buy", "old van"), ("Tamsin", "old van", "Rusty Heron")}),
    ("Our cat Biscuit is now called Crumpet.", {("the user", "cat", "Crumpet")}),  # the old name goes
    # a number written with a hyphen is one number
    ("Grandad is eighty-four.", {("Grandad", "age", "eighty-four")}),
    # the named place says where; "in a small house by the canal" describes it (two answers would cancel out)
    ("I live in Harrowdene, in a small house by the canal.", {("the user", "live in", "Harrowdene")}),
    # no fact: an existential, where someone was one afternoon, a pronoun object, an opinion of everyone's
    ("There's a new printer in my office.", set()),
    ("We were at the Delling market in the rain all morning.", set()),
    ("I've seen about a hundred photos of it.", set()),
    ("My brother Ivo is everyone's favourite.", {("the user", "brother", "Ivo")}),
    # and what must not change: "IT" is not "it", an article makes a sign not a name
    ("I'm the head of IT at Ferrowell.", {("the user", "work as", "head of IT"), ("the user", "work at", "Ferrowell")}),
    ("I'm a Pisces.", {("the user", "be", "Pisces")}),
    # "he"/"she" after a name in the same sentence is that person; not in reported speech
    ("Tamsin's a primary school teacher, and she's just adopted a black cat called Pudding.",
     {("Tamsin", "work as", "primary school teacher"), ("Tamsin", "adopt", "black cat"), ("Tamsin", "cat", "Pudding")}),
    ("Dad's called Herb, he fixes clocks.", {("the user", "dad", "Herb"), ("Herb", "fix", "clocks")}),
    ("My sister Ana says she is moving to Lindqvar.", {("the user", "sister", "Ana")}),
    # "X and I": the speaker too (and so the move supersedes where the user lived)
    ("Last spring Orrin and I moved to Kelderby.",
     {("Orrin", "live in", "Kelderby"), ("the user", "live in", "Kelderby")}),
    # an apposition holds whatever its clause says; a request's "never" is not the speaker's negation
    ("If my cousin Bex visits, she can sleep on the sofa.", {("the user", "cousin", "Bex")}),
    ("Oh, one thing: I'm allergic to penicillin, so please never forget it.",
     {("the user", "be allergic to", "penicillin")}),
    # a thing given a name is asked for by its name; a job's town is where one works
    ("I've started swimming at a pool called Aquafen.", {("the user", "swim at", "Aquafen")}),
    ("My aunt Wilma is a nurse in Stroud.",
     {("the user", "aunt", "Wilma"), ("Wilma", "work as", "nurse"), ("Wilma", "work in", "Stroud")}),
    ("Our new next-door neighbour is Petra Lusk.", {("the user", "next-door neighbour", "Petra Lusk")}),
    # a date said with "'s" (read as a possessive) and whole ("9th", not "the 9th of"); a bare noun with a time
    ("Oh, and my anniversary's the 4th of June, so remember it.", {("the user", "anniversary", "4th of June")}),
    ("My birthday is the 12th of May.", {("the user", "birthday", "12th of May")}),
    ("Band practice is on Fridays.", {("the user", "band practice", "Fridays")}),
    ("Lessons are on Thursday mornings.", {("the user", "lesson", "Thursday mornings")}),
    ("Prices are high this week.", set()),  # a bare noun without a time: nobody's
    # where a thing is done, said after the thing (the parser hangs "at" on it)
    ("I bought a coat at Harrow & Finch.", {("the user", "buy", "coat"), ("the user", "buy at", "Harrow & Finch")}),
    ("Says the woman who runs the quiz.", set()),  # the user's "says the one who" is about the agent: not read
    # a name after "a guy on my team" is the guy's, not the team's
    ("There's a new guy on my team, Caddoc Velle, and he keeps bees.",
     {("the user", "teammate", "Caddoc Velle"), ("Caddoc Velle", "keep", "bees")}),
    ("My team, the Otters, won the league.", {("the user", "team", "Otters"), ("Otters", "win", "league")}),
    # a condition on what the assistant does for the speaker says how the speaker has it
    ("If you ever have to order coffee for me, it's an oat flat white, extra hot.",
     {("the user", "coffee", "oat flat white, extra hot")}),
    ("If you book me a hotel, it's always the Marlow.", {("the user", "hotel", "Marlow")}),
    ("If you order coffee, it's an oat flat white.", set()),  # for whom is not said
    ("If I moved to Paris, it would be fun.", set()),  # a hypothetical about the world
])
def test_triples_from_conversational_english(text, expected):
    assert triples(text) == expected


def test_an_apposition_of_a_named_speaker_survives_their_negation():
    assert triples("My brother Aldo won't be there, sadly.", "Maud") == {("Maud", "brother", "Aldo")}


def test_she_of_the_next_sentence_is_the_person_named_before_and_a_little_girl_is_a_daughter():
    assert triples("My sister Marta is a vet. She's got a little girl, Lottie.") == {
        ("the user", "sister", "Marta"), ("Marta", "work as", "vet"), ("Marta", "daughter", "Lottie"),
        ("Marta", "have", "little girl")}


def test_time_expressions_stay_out_of_the_object():
    (s,) = read_message("I moved to Arlow Point last week.").sentences
    (t,) = s.triples
    assert (t.object, t.qualifier, t.answer) == ("Arlow Point", "last week", "place")
    (s,) = read_message("I was born in Tromsdal in 1990.").sentences
    assert [(t.relation, t.object, t.qualifier) for t in s.triples] == [("be born in", "Tromsdal", "in 1990")]


def test_a_named_speaker_is_the_subject_of_their_first_person():
    assert subject_of("user") == "the user" and subject_of("Gina") == "Gina"
    assert triples("I lost my job at Door Dash last month.", "Gina") >= {("Gina", "lose", "job")}
    assert triples("My favourite dance style is contemporary.", "Gina") == {
        ("Gina", "favourite dance style", "contemporary")}


@pytest.mark.parametrize("text, expected", [
    ("I still can't believe you left Corbel Rail.", {("Jorund", "leave", "Corbel Rail")}),  # surprise, not denial
    ("You're a bridge inspector now, right.", {("Jorund", "work as", "bridge inspector")}),
    ("Your sister Brisa bought a boat.", {("Jorund", "sister", "Brisa"), ("Brisa", "buy", "boat")}),
    ("I don't think you left Corbel Rail.", set()),
    # the retort "says the one who ..." is about whom it is said to
    ("Says the woman who still runs the Thursday quiz at the Gull & Lantern.",
     {("Jorund", "run", "Thursday quiz"), ("Jorund", "run at", "Gull & Lantern")}),
    ("Tessaly says the quiz is hard.", set()),
])
def test_you_is_whom_a_transcript_speaker_talks_to(text, expected):
    assert triples_to(text, "Tessaly", "Jorund") == expected


def triples_to(text: str, speaker: str, addressee: str) -> set[tuple[str, str, str]]:
    return {(t.subject, t.relation, t.object) for s in read_message(text, speaker, addressee).sentences
            for t in s.triples}


def test_the_users_you_is_the_agent_and_never_read():
    assert triples("I told you my sister is Ana.") == {("the user", "sister", "Ana")}
    assert triples_to("You're a bridge inspector now.", "Tessaly", "Tessaly") == set()  # not to oneself


def test_messages_are_read_in_one_batch_in_order():
    a, b = read_messages(["Hi!", "I drive a red Halvik coupe."])
    assert [s.kind for s in a.sentences] == ["small-talk"]
    assert [(t.relation, t.object) for t in b.sentences[0].triples] == [("drive", "red Halvik coupe")]


@pytest.mark.parametrize("text, target, everything", [
    ("Please forget that I drive a red Halvik.", "I drive a red Halvik", False),
    ("forget about my dentist", "my dentist", False),
    ("Can you delete the part about my old job?", "my old job", False),
    ("Actually, could you forget what I said about my rent?", "my rent", False),
    ("I'd rather you didn't remember my old address.", "my old address", False),
    ("I don't want you to remember my phone number.", "my phone number", False),
    ("Delete everything about my ex.", "my ex", True),
    ("Ugh, forget the driving test thing.", "driving test", False),
    ("Never mind what I told you about Priya's wedding, just forget it.", "Priya's wedding", False),
    ("Could you please not keep the Varna trip?", "Varna trip", False),
    ("Stop remembering where I work, please.", "where I work", False),
    ("Can we forget about my landlord?", "my landlord", False),
    ("I'd rather you forgot my bank details.", "bank", False),  # "forgot" tagged as a present
])
def test_a_request_to_forget_is_read_wherever_it_sits_and_however_it_names_its_target(text, target, everything):
    """An erasing verb, or a keeping verb negated or stopped, said to the agent (an imperative, "you", "can
    we"): a request, never a statement; its target is what it names, unwrapped from "what I said about" and
    "the part about"."""
    (s,) = read_message(text).sentences
    assert (s.kind, s.text, s.everything) == ("forget", target, everything)


@pytest.mark.parametrize("text", ["I forgot my keys at Tom's house.", "Don't forget my sister's birthday is on 4 May.",
                                  "I deleted my Instagram account last week.", "My brother keeps forgetting my name.",
                                  "Mum wants to erase her old Facebook photos.", "Remember that I live in Fenwick.",
                                  "I spent Sunday clearing the weeds from the garden."])
def test_forgetting_said_of_someone_or_negated_is_a_statement(text):
    assert [s.kind for s in read_message(text).sentences] == ["statement"]


def test_a_request_that_points_back_withdraws_the_statement_before_it():
    """"Please don't keep that." after a statement of the same message: that statement is never stored; alone in
    its message, it asks for the last thing stored (target ""); after another request it adds nothing."""
    out = read_message("My PIN is 4471. Actually, please don't keep that. I live in Leeds.")
    assert [(s.kind, s.text) for s in out.sentences] == [("withdrawn", "My PIN is 4471."),
                                                         ("statement", "I live in Leeds.")]
    assert [(s.kind, s.text) for s in read_message("Forget I said that.").sentences] == [("forget", "")]
    out = read_message("Could you forget what I said about my rent? I'd rather it wasn't kept.")
    assert [(s.kind, s.text) for s in out.sentences] == [("forget", "my rent")]


def test_he_and_she_are_read_as_the_person_named_just_before():
    intake = read_message("My brother's Dorran. He's head chef at the Brinehook. I met Tom in Paris. He lives in "
                          "Lyon now. We went to Oslo. It was cold.")
    facts = {(t.subject, t.relation, t.object) for s in intake.statements for t in s.triples}
    assert ("Dorran", "work as", "head chef") in facts and ("Tom", "live in", "Lyon") in facts
    assert [s.text for s in intake.statements if s.text.startswith("He")] == [
        "He's head chef at the Brinehook.", "He lives in Lyon now."]  # kept as said
    assert not any(t.subject.lower() in ("he", "she", "it") for s in intake.statements for t in s.triples)


def test_a_name_given_to_someones_relation_is_a_person_for_the_next_sentences_she():
    # the tagger reads "Wenna Abernell" as a facility; said as the neighbour's name, it is a person
    assert ("Wenna Abernell", "grow", "giant marrows") in triples(
        "Our new next-door neighbour is Wenna Abernell. She grows giant marrows.")
    assert not any(s == "Oslo" for s, _, _ in triples("The capital is Oslo. She likes the harbour."))


def test_what_the_parser_could_not_attach_stays_out_of_the_object():
    found = triples("I've run the Ossenby half marathon, what, four years in a row.")
    assert ("the user", "run", "half marathon") in found and not any("what" in o for _, _, o in found)


def test_what_is_done_for_someone_else_is_still_done():
    assert ("Jorund", "do", "their bridge inspections") in triples(
        "I started at Pellick & Vane on Monday. I'm doing their bridge inspections now.", "Jorund")
    assert triples("We had their second baby over for dinner.") == set()  # whose baby: not said


@pytest.mark.parametrize("text", ["Tell me the phone number of Ada Brennock.", "Give me Ana's number, please.",
                                  "Please remind me where I parked.", "List my contacts."])
def test_requests_to_the_agent_are_asked_not_stored(text):
    assert [s.kind for s in read_message(text).sentences] == ["question"]


def test_a_sentence_that_leans_on_the_one_before_keeps_it_as_context():
    intake = read_message("My brother's Dorran. He's head chef at the Brinehook. And we've got a dog, Ferrow. "
                          "Scruffy little lurcher, terrified of the hoover. I live in Carrowmede.")
    got = [(s.text, s.context) for s in intake.statements]
    assert got == [("My brother's Dorran.", None),
                   ("He's head chef at the Brinehook.", "My brother's Dorran."),  # a pronoun
                   ("And we've got a dog, Ferrow.", None),
                   ("Scruffy little lurcher, terrified of the hoover.", "And we've got a dog, Ferrow."),  # no verb
                   ("I live in Carrowmede.", None)]  # stands on its own


def test_a_called_out_name_is_small_talk_but_a_name_stated_is_kept():
    intake = read_message("Jorund! How's the new job? I'm Odile. Odile Carrask.")
    assert [(s.kind, s.text) for s in intake.sentences] == [
        ("small-talk", "Jorund!"), ("question", "How's the new job?"), ("statement", "I'm Odile."),
        ("statement", "Odile Carrask.")]
    assert intake.statements[1].context == "I'm Odile."


def test_a_bare_name_after_the_first_name_is_the_whole_name():
    assert triples("I'm Odile, by the way. Odile Carrask.") == {
        ("the user", "name", "Odile"), ("the user", "name", "Odile Carrask")}
    assert triples("My name is Sam. Paris France.") == {("the user", "name", "Sam")}  # not an extension of it


@pytest.mark.parametrize("text, expected", [
    ("I'm a hydrologist at Tessgrove Water. Been there since 2019, which makes me part of the furniture.",
     ("the user", "be at", "Tessgrove Water", "since 2019")),
    ("Moved to Oslo last week.", ("the user", "live in", "Oslo", "last week")),
    ("Grew up in Leeds.", ("the user", "grow up in", "Leeds", None)),
])
def test_a_statement_that_drops_its_subject_is_the_speakers(text, expected):
    got = {(t.subject, t.relation, t.object, t.qualifier) for s in read_message(text).sentences for t in s.triples}
    assert expected in got


@pytest.mark.parametrize("text", ["Go to the shop.", "Been a long day.", "Been busy lately."])
def test_imperatives_and_elided_it_are_not_the_speakers(text):
    assert triples(text) == set()


def test_what_the_context_says_travels_beside_the_parse(monkeypatch):
    """Whom "he" and "you" mean and the place a "there" points back to are read off the one parse of the message:
    no sentence is written anew and parsed again."""
    from language import parsing
    from language.intake import read_parsed

    said = [("My brother's Dorran. He's head chef at a seafood place in Tollanby called the Brinehook.", "user", None),
            ("I still can't believe you left Corbel Rail.", "Caroline", "Jorund"),
            ("Says the woman who runs the Thursday quiz.", "Jorund", "Tessaly"),
            ("I'm a hydrologist at Tessgrove Water. Been there since 2019.", "user", None)]
    docs = parsing.parse([text for text, _, _ in said])

    def no_second_parse():
        raise AssertionError("parsed again")
    monkeypatch.setattr(parsing, "pipeline", no_second_parse)
    read = [read_parsed([doc], speaker, to)[0] for doc, (_, speaker, to) in zip(docs, said)]
    triples = [{(t.subject, t.relation, t.object) for s in i.sentences for t in s.triples} for i in read]
    assert ("Dorran", "work at", "Brinehook") in triples[0] and ("Dorran", "work as", "head chef") in triples[0]
    assert ("Jorund", "leave", "Corbel Rail") in triples[1]
    assert ("Tessaly", "run", "Thursday quiz") in triples[2]
    assert ("the user", "be at", "Tessgrove Water") in triples[3]


@pytest.mark.parametrize("text, expected", [
    ("I have a dog. Her name is Pepper.", ("the user", "dog", "Pepper")),
    ("We adopted a kitten last week. His name is Biscuit.", ("the user", "kitten", "Biscuit")),
    ("My sister lives in Oslo. Her name is Ana.", ("the user", "sister", "Ana")),
])
def test_a_name_said_with_his_or_her_is_of_what_the_speaker_just_said_they_have(text, expected):
    """"His/Her name is X." names the last thing the message said the speaker has (a pet, a relative)."""
    last = read_message(text).sentences[-1]
    assert last.kind == "statement" and (last.triples[0].subject, last.triples[0].relation,
                                         last.triples[0].object) == expected


@pytest.mark.parametrize("text", ["Her name is Pepper.", "His name was Tom.", "Their names are Ana and Jo.",
                                  "My brother's Dorran. His name is Dorran."])
def test_a_name_whose_owner_the_message_does_not_say_is_kept_verbatim(text):
    """Nobody the message names owns it (or a person was named last): no triple, and the words are kept."""
    last = read_message(text).sentences[-1]
    assert last.kind == "statement" and last.triples == () and last.why == "vague"


def test_a_sentence_no_rule_can_read_is_kept_verbatim_with_the_reason(monkeypatch):
    """A parse that makes a rule fail (a bug) loses nothing: that sentence is kept as said, with the reason, and
    the others are read as usual."""
    from language import intake

    real = intake.analyze

    def fails_on_pepper(sent, who):
        if "Pepper" in sent.text:
            raise TypeError("a rule that did not foresee this parse")
        return real(sent, who)

    monkeypatch.setattr(intake, "analyze", fails_on_pepper)
    out = read_message("I moved to Oslo. Pepper is mine. Where is it?")
    assert [(s.text, s.kind, s.why) for s in out.sentences][1:] == [
        ("Pepper is mine.", "statement", "unreadable (TypeError)"), ("Where is it?", "question", "question")]
    assert out.sentences[0].triples and out.sentences[0].triples[0].object == "Oslo"


@pytest.mark.parametrize("text, expected", [
    ("Did I mention my dentist is Oriel Tansby?", ("the user", "dentist", "Oriel Tansby")),
    ("Have I told you that I moved to Ryde?", ("the user", "live in", "Ryde")),
    ("Did you know my sister Ana lives in Oslo?", ("Ana", "live in", "Oslo")),
])
def test_a_question_about_telling_keeps_what_it_tells_and_is_asked(text, expected):
    """A yes/no question whose telling verb takes a clause with its own subject states that clause: the sentence
    is kept (with its facts) and asked."""
    out = read_message(text)
    assert [s.text for s in out.statements] == [text] and [s.text for s in out.questions] == [text]
    assert expected in {(t.subject, t.relation, t.object) for t in out.statements[0].triples}


@pytest.mark.parametrize("text", ["Do you know where I live?", "Do you know if I moved to Ryde?",
                                  "Did I say I was moving to Oslo?", "Is it true that I live in Leeds?",
                                  "Where did I say I live?"])
def test_a_question_that_asks_what_its_clause_says_states_nothing(text):
    out = read_message(text)
    assert out.statements == [] and [s.text for s in out.questions] == [text]


@pytest.mark.parametrize("text, expected, absent", [
    ("We sold the flat and moved into a cottage in Ryde.", ("the user", "live in", "Ryde"), ("live in", "cottage")),
    ("I moved my account to Pellow Bank.", ("the user", "move account to", "Pellow Bank"), ("live in", "Pellow Bank")),
    ("I started a new job at Corbel Rail on Monday.", ("the user", "work at", "Corbel Rail"), None),
    ("I'm considering a job at Pellucid Systems.", ("the user", "consider at", "Pellucid Systems"),
     ("work at", "Pellucid Systems")),
    ("We renamed the dog Biscuit.", ("the user", "dog", "Biscuit"), None),
    ("We moved out of Corran Street.", ("the user", "move out of", "Corran Street"), None),
])
def test_changes_said_in_passing_are_read_as_the_relation_they_change(text, expected, absent):
    """Where one lives is the place named, not the dwelling; a thing moved is not the speaker moving; a job taken
    up at a place is work there (one considered is not); a rename gives the thing its new name."""
    triples = {(t.subject, t.relation, t.object) for s in read_message(text).statements for t in s.triples}
    assert expected in triples
    assert absent is None or not any((r, o) == absent for _, r, o in triples)


@pytest.mark.parametrize("text, role, name", [
    ("My stepdad Brann grew up in Oxhollow.", "stepdad", "Brann"),  # the parser reads "stepdad" as an adjective
    ("My flatmate Reuben named him.", "flatmate", "Reuben"),
    ("My youngest, Bea, starts school in September.", "youngest", "Bea"),
    ("We stayed with my great-uncle Osric.", "great-uncle", "Osric"),
])
def test_a_role_the_parser_reads_as_a_modifier_of_the_name_is_still_the_speakers(text, role, name):
    assert ("the user", role, name) in triples(text)
