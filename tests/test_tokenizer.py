"""The character tokenizer: sorted ids, BOS, encode and decode."""

import dataclasses
import random

import pytest

from microgpt.data import Tokenizer

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def tok(docs):
    return Tokenizer.from_docs(docs)


def test_ids_follow_the_sorted_characters(docs, tok):
    chars = set("".join(docs))
    assert list(tok.chars) == sorted(chars)
    assert tok.encode("".join(sorted(chars))) == list(range(len(chars)))


def test_bos_is_the_id_after_the_characters(tok, expected_run):
    assert tok.bos == len(tok.chars)
    assert tok.vocab_size == tok.bos + 1 == expected_run["vocab_size"]


def test_a_small_vocabulary():
    tok = Tokenizer.from_docs(["bca", "ab"])
    assert tok.chars == ("a", "b", "c")
    assert tok.encode("cab") == [2, 0, 1]
    assert tok.bos == 3 and tok.vocab_size == 4


def test_the_vocabulary_does_not_depend_on_document_order(docs, tok):
    shuffled = list(docs)
    random.Random(0).shuffle(shuffled)
    assert Tokenizer.from_docs(shuffled) == tok


def test_every_document_round_trips(docs, tok):
    for doc in docs:
        assert tok.decode(tok.encode(doc)) == doc


def test_frame_puts_bos_on_both_sides(tok):
    ids = tok.encode("emma")
    assert tok.frame("emma") == [tok.bos] + ids + [tok.bos]
    assert tok.frame("") == [tok.bos, tok.bos]


@pytest.mark.parametrize(
    "text, bad", [("ab!", "!"), ("José", "J"), ("zoë", "ë"), ("a b", " ")]
)
def test_an_unknown_character_is_named(tok, text, bad):
    with pytest.raises(ValueError) as e:
        tok.encode(text)
    assert repr(bad) in str(e.value)
    assert "not in the vocabulary" in str(e.value)


@pytest.mark.parametrize("bad", [27, -1, 100])
def test_decoding_an_id_that_is_not_a_character_is_an_error(tok, bad):
    with pytest.raises(ValueError) as e:
        tok.decode([0, bad])
    assert repr(bad) in str(e.value)


def test_the_tokenizer_is_frozen(tok):
    with pytest.raises(dataclasses.FrozenInstanceError):
        tok.chars = ("a",)
