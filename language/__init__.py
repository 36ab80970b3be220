"""Everything engram knows about English: the ground floor. It imports no other package of the project.

- parsing: the spaCy pipeline (a sentence is parsed once here)
- lexicon: every word list, once, named for what it lists
- intake: a message's sentences, speakers, small talk and forget requests
- extraction: subject / relation / object triples read off a parse
- phrasing, templates: questions (and statements) written from facts and from what was said
- answer_kinds: what a question asks for, and whether an answer is of that kind
- matching: whether an answer states an expected value
"""
