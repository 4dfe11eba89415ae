"""The data chapter's exercise checks pass right answers, fail wrong."""

import pytest

from microgpt.course.checks import CheckFailed, data

pytestmark = pytest.mark.data


def build_vocab(docs):
    return sorted(set("".join(docs)))


def frame(doc, chars):
    bos = len(chars)
    return [bos] + [chars.index(ch) for ch in doc] + [bos]


def inputs_targets(tokens, block_size):
    n = min(block_size, len(tokens) - 1)
    return tokens[:n], tokens[1:n + 1]


def test_build_vocab_passes_the_reference(capsys):
    data.check_build_vocab(build_vocab)
    assert "✓ build_vocab" in capsys.readouterr().out


def test_build_vocab_unsorted_fails_at_a_position():
    with pytest.raises(CheckFailed, match=r"^chapter 2, exercise 1: "
                       r"vocabulary of random docs #0 at position \d+: got "
                       r".*; this is what leaving the characters unsorted "
                       r"gives$"):
        data.check_build_vocab(lambda docs: list(dict.fromkeys("".join(docs))))


def test_build_vocab_hard_coded_letters_fails_on_length():
    letters = list("abcdefghijklmnopqrstuvwxyz")
    with pytest.raises(CheckFailed, match=r"vocabulary of random docs #0"):
        data.check_build_vocab(lambda docs: letters)


def test_frame_passes_the_reference(capsys):
    data.check_frame(frame)
    assert "✓ frame" in capsys.readouterr().out


def test_frame_without_closing_bos_fails_on_length():
    with pytest.raises(CheckFailed, match=r"frame\(.*\): got \d+ items, "
                       r"expected \d+ \(the first \d+ agree\); this is "
                       r"what leaving out the closing BOS gives$"):
        data.check_frame(lambda doc, chars: frame(doc, chars)[:-1])


def test_frame_with_bos_zero_fails_at_position_zero():
    def bos_zero(doc, chars):
        return [0] + [chars.index(ch) + 1 for ch in doc] + [0]
    with pytest.raises(CheckFailed, match=r"frame\(.*\) at position 0: "
                       r"got 0, .*; this is what BOS as id 0 \(BOS is the "
                       r"last id, len\(chars\)\) gives$"):
        data.check_frame(bos_zero)


def test_inputs_targets_passes_the_reference(capsys):
    data.check_inputs_targets(inputs_targets)
    assert "✓ inputs_targets" in capsys.readouterr().out


def test_inputs_targets_without_truncation_fails_on_long_docs():
    def untruncated(tokens, block_size):
        return tokens[:-1], tokens[1:]
    # NOTE: 17 tokens make exactly 16 pairs, so 25 is the first to differ.
    with pytest.raises(CheckFailed, match=r"inputs \(25 tokens, "
                       r"block_size=16\): got 24 items, expected 16 .*; "
                       r"this is what not cutting to block_size gives$"):
        data.check_inputs_targets(untruncated)


def test_inputs_targets_must_return_a_pair():
    with pytest.raises(CheckFailed, match=r"expected a tuple"):
        data.check_inputs_targets(lambda tokens, block_size: tokens)
