"""The data chapter's exercise checks pass right answers, fail wrong."""

import pytest

from microgpt.course.checks import CheckFailed, data

pytestmark = pytest.mark.data


def decode_sample(ids, chars):
    text = ""
    for i in ids:
        if i == len(chars):
            break
        text += chars[i]
    return text


def frame_bos_first(doc, chars):
    return [0] + [chars.index(ch) + 1 for ch in doc] + [0]


def last_pairs(tokens, block_size):
    n = min(block_size, len(tokens) - 1)
    return tokens[len(tokens) - 1 - n : -1], tokens[len(tokens) - n :]


def test_predictions_pass_the_measured_number(capsys):
    data.check_predictions(lambda: 16)
    assert "✓ predictions" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (21, "every pair of the framed name"),
        (22, "the number of tokens of the framed name"),
        (20, "frames to n \\+ 2 tokens"),
        (
            15,
            "one too few, an off-by-one: 15 is the number of pairs "
            "inside 16 tokens",
        ),
        (17, "17 is one too many, an off-by-one"),
        (
            12,
            "12 is too small .*count the pairs that inputs_and_targets makes",
        ),
    ],
)
def test_predictions_typical_mistakes_get_their_hint(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 2, exercise 1: "
        r"predictions .*" + hint,
    ):
        data.check_predictions(lambda: wrong)


def test_decode_sample_passes_a_loop_that_breaks(capsys):
    data.check_decode_sample(decode_sample)
    assert "✓ decode_sample" in capsys.readouterr().out


def test_decode_sample_that_skips_bos_names_the_mistake():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 2, exercise 2: "
        r"decode_sample\(.*; this is what skipping BOS "
        r"instead of stopping at it gives$",
    ):
        data.check_decode_sample(
            lambda ids, chars: "".join(
                chars[i] for i in ids if i != len(chars)
            )
        )


def test_decode_sample_that_stops_at_zero_names_the_mistake():
    def at_zero(ids, chars):
        return decode_sample(ids[: ids.index(0)] if 0 in ids else ids, chars)

    with pytest.raises(CheckFailed, match=r"this is what stopping at id 0"):
        data.check_decode_sample(at_zero)


def test_decode_sample_that_calls_the_tokenizer_is_turned_off():
    from microgpt.data import Tokenizer

    def package(ids, chars):
        bos = len(chars)
        cut = ids[: ids.index(bos)] if bos in ids else ids
        return Tokenizer(tuple(chars)).decode(cut)

    with pytest.raises(
        CheckFailed,
        match=r"your answer calls "
        r"microgpt.data.Tokenizer.decode",
    ):
        data.check_decode_sample(package)


def test_frame_bos_first_passes_the_reference(capsys):
    data.check_frame_bos_first(frame_bos_first)
    assert "✓ frame_bos_first" in capsys.readouterr().out


def test_frame_bos_first_with_the_chapters_bos_names_it():
    def chapter(doc, chars):
        bos = len(chars)
        return [bos] + [chars.index(ch) for ch in doc] + [bos]

    with pytest.raises(
        CheckFailed,
        match=r"^chapter 2, exercise 3: "
        r"frame_bos_first\(.*\) at position 0: .*; this is "
        r"what the chapter's convention \(BOS as the last "
        r"id, not 0\) gives$",
    ):
        data.check_frame_bos_first(chapter)


def test_frame_bos_first_without_the_shift_names_it():
    with pytest.raises(
        CheckFailed,
        match=r"this is what BOS as 0 without "
        r"shifting the characters up by one gives$",
    ):
        data.check_frame_bos_first(
            lambda doc, chars: [0] + [chars.index(ch) for ch in doc] + [0]
        )


def test_frame_bos_first_without_closing_bos_fails_on_length():
    with pytest.raises(CheckFailed, match=r"got \d+ items, expected \d+"):
        data.check_frame_bos_first(
            lambda doc, chars: frame_bos_first(doc, chars)[:-1]
        )


def test_last_pairs_passes_the_reference(capsys):
    data.check_last_pairs(last_pairs)
    assert "✓ last_pairs" in capsys.readouterr().out


def test_last_pairs_that_takes_the_first_pairs_names_it():
    def first(tokens, block_size):
        n = min(block_size, len(tokens) - 1)
        return tokens[:n], tokens[1 : n + 1]

    # Up to 17 tokens, block_size=16 covers the whole document, so
    # first and last pairs agree; 25 tokens is the first to differ.
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 2, exercise 4: inputs "
        r"\(25 tokens, block_size=16\) at position 0: .*; "
        r"this is what taking the first pairs \(the "
        r"chapter's inputs_and_targets\) gives$",
    ):
        data.check_last_pairs(first)


def test_last_pairs_one_token_late_names_it():
    def late(tokens, block_size):
        n = min(block_size, len(tokens) - 1)
        return tokens[len(tokens) - n :], tokens[len(tokens) - n :]

    with pytest.raises(
        CheckFailed,
        match=r"this is what starting one "
        r"token too late gives$",
    ):
        data.check_last_pairs(late)


def test_last_pairs_must_return_a_pair():
    with pytest.raises(CheckFailed, match=r"expected a tuple"):
        data.check_last_pairs(lambda tokens, block_size: tokens)
