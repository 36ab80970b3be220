import pytest

from tests.tiny import FACTS, build_tiny_base, build_tiny_tokenizer, make_fact


@pytest.fixture(scope="session")
def tiny_tokenizer():
    return build_tiny_tokenizer()


@pytest.fixture
def tiny_base(tiny_tokenizer):
    return build_tiny_base(tiny_tokenizer)


@pytest.fixture
def tiny_facts():
    return [make_fact(*f) for f in FACTS]
