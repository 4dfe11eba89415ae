"""Byte-level BPE: a worked example, determinism, identity on any text."""

import random
import time

import pytest

from microgpt import bpe, text

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def corpus():
    return text.load_text()


@pytest.fixture(scope="module")
def shakespeare_bpe(corpus):
    head, _ = text.split_text(corpus, 0.1)
    return bpe.BPE.train(head, 512)


def test_a_worked_example_by_hand():
    # Bytes: a=97, b=98, c=99, d=100. "aa" occurs 4 times; then "ab"
    # and "<aa>a" twice each, and the tie goes to the smaller ids (97,
    # 98); then "<aa><ab>" twice.
    merges = bpe.train("aaabdaaabac", 259)
    assert merges == [(97, 97), (97, 98), (256, 257)]
    tok = bpe.BPE(tuple(merges))
    assert tok.encode("aaabdaaabac") == [258, 100, 258, 97, 99]
    assert tok.token_bytes(258) == b"aaab"
    assert tok.decode([258, 100]) == "aaabd"
    # Nothing left to merge: training stops early.
    assert bpe.train("ab", 300) == [(97, 98)]


def test_merge_replaces_non_overlapping_pairs_left_to_right():
    assert bpe.merge([1, 1, 1], (1, 1), 9) == [9, 1]
    assert bpe.merge([1, 2, 1, 2, 3], (1, 2), 9) == [9, 9, 3]
    assert bpe.merge([], (1, 2), 9) == []


def test_merges_stay_inside_chunks():
    # A run of white space gives its last character to the word after
    # it when that is a space, as in GPT-2; a newline stands alone.
    assert bpe.chunks("Hi, you  there!\n\nOK_1 2") == [
        "Hi",
        ",",
        " you",
        " ",
        " there",
        "!",
        "\n",
        "\n",
        "OK",
        "_",
        "1",
        " 2",
    ]
    # " a" is never merged with the "b" before it.
    assert (98, 32) not in bpe.train("b a b a b a", 300)


def test_training_is_deterministic_and_fast(corpus):
    head, _ = text.split_text(corpus, 0.1)
    start = time.perf_counter()
    a = bpe.train(head, 512)
    took = time.perf_counter() - start
    assert a == bpe.train(head, 512)
    assert len(a) == 256 and len(set(a)) == 256
    assert took < 30, f"training 256 merges on 1 MB took {took:.0f} s"
    # A longer training run begins with the same merges.
    assert (
        bpe.train(head[:100000], 300)[:10]
        == bpe.train(head[:100000], 280)[:10]
    )


def test_every_line_of_the_corpus_round_trips(corpus, shakespeare_bpe):
    tok = shakespeare_bpe
    for line in corpus.splitlines(keepends=True):
        assert tok.decode(tok.encode(line)) == line
    ids = tok.encode(corpus)
    assert tok.decode(ids) == corpus
    assert len(ids) < 0.6 * len(corpus)  # merges shorten the text


def random_text(rng, n):
    """n characters from all of Unicode but the surrogates."""
    # ASCII, two-byte characters, combining marks, the rest of the
    # basic plane, emoji and every other plane.
    pools = [
        (0, 0x7F),
        (0x80, 0x7FF),
        (0x300, 0x36F),
        (0x800, 0xD7FF),
        (0xE000, 0xFFFF),
        (0x1F300, 0x1FAFF),
        (0x10000, 0x10FFFF),
    ]
    out = []
    for _ in range(n):
        lo, hi = rng.choice(pools)
        out.append(chr(rng.randint(lo, hi)))
    return "".join(out)


def test_any_unicode_round_trips(shakespeare_bpe):
    rng = random.Random(0)
    samples = [random_text(rng, rng.randint(0, 40)) for _ in range(500)]
    samples += [
        "",
        "\x00",
        "e\u0301",
        "👩‍👩‍👧",
        "\r\n\t ",
        "\ufeffbom",
        "naïve café",
        "日本語のテキスト",
        "ROMEO: ¿qué?",
    ]
    for s in samples:
        ids = shakespeare_bpe.encode(s)
        assert all(0 <= i < shakespeare_bpe.vocab_size for i in ids)
        assert shakespeare_bpe.decode(ids) == s


def test_the_merges_are_saved_and_checked(shakespeare_bpe):
    again = bpe.BPE.from_json(shakespeare_bpe.to_json())
    assert again == shakespeare_bpe
    assert text.tokenizer_from_json(shakespeare_bpe.to_json()) == again
    assert again.vocab_size == 512
    with pytest.raises(ValueError, match="merge 0 must join two earlier"):
        bpe.BPE(((97, 256),))
    with pytest.raises(ValueError, match="list of pairs"):
        bpe.BPE.from_json({"kind": "bpe", "merges": "ab"})
    with pytest.raises(ValueError, match="at least 256"):
        bpe.train("abc", 100)


def test_a_sampled_byte_sequence_that_is_not_utf8_still_decodes():
    tok = bpe.BPE(())
    assert tok.decode([0xC3]) == "\ufffd"  # half of a two-byte character
    with pytest.raises(ValueError, match="not a token id"):
        tok.decode([256])
