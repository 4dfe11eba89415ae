"""The introduction's exercise checks pass right answers, fail wrong."""

from collections import Counter

import pytest

from microgpt.course.checks import CheckFailed, intro

pytestmark = pytest.mark.data


def letter_counts(docs):
    counts = {}
    for doc in docs:
        for ch in doc:
            counts[ch] = counts.get(ch, 0) + 1
    return counts


def length_counts(docs):
    return Counter(len(doc) for doc in docs)


def test_letter_counts_passes_a_dict_solution(capsys):
    intro.check_letter_counts(letter_counts)
    assert "✓ letter_counts" in capsys.readouterr().out


def test_letter_counts_of_first_letters_only_fails_naming_a_key():
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 1, exercise 1: letter "
        r"counts of random docs #0, character \S+: got \d+, "
        r"expected \d+$",
    ):
        intro.check_letter_counts(lambda docs: Counter(d[0] for d in docs))


def test_letter_counts_once_per_document_names_the_mistake():
    with pytest.raises(
        CheckFailed,
        match=r"; this is what counting a "
        r"character once per document gives$",
    ):
        intro.check_letter_counts(
            lambda docs: Counter(ch for d in docs for ch in set(d))
        )


def test_letter_counts_of_distinct_names_fails():
    with pytest.raises(CheckFailed, match=r"letter counts"):
        intro.check_letter_counts(
            lambda docs: Counter("".join(set(docs))) + Counter("a")
        )


def test_letter_counts_must_be_a_dict():
    with pytest.raises(CheckFailed, match=r"expected a dict, got list"):
        intro.check_letter_counts(lambda docs: sorted("".join(docs)))


def test_length_counts_passes_a_counter_solution(capsys):
    intro.check_length_counts(length_counts)
    assert "✓ length_counts" in capsys.readouterr().out


def test_length_counts_off_by_one_fails_naming_a_length():
    with pytest.raises(
        CheckFailed,
        match=r"length counts of random docs "
        r"#0, length \d+: got \d+, expected \d+; this is "
        r"what counting one character too many",
    ):
        intro.check_length_counts(
            lambda docs: Counter(len(d) + 1 for d in docs)
        )


def test_counts_that_consume_the_list_pass(capsys):
    def popping(docs):
        counts = Counter()
        while docs:
            counts.update(docs.pop())
        return counts

    def popping_lengths(docs):
        counts = Counter()
        while docs:
            counts[len(docs.pop())] += 1
        return counts

    intro.check_letter_counts(popping)
    intro.check_length_counts(popping_lengths)
    assert capsys.readouterr().out.count("✓") == 2


def test_fraction_seen_passes_a_number_within_the_tolerance(capsys):
    intro.check_fraction_seen(lambda: 1000 / 32033)
    intro.check_fraction_seen(lambda: 0.03)
    assert capsys.readouterr().out.count("✓") == 2


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (1, "each step trains on one name"),
        (3.12, "that is a percentage"),
        (0.3, "is too large"),
        ("0.03", "expected a number"),
    ],
)
def test_fraction_seen_typical_mistakes_get_their_hint(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 1, exercise 3: "
        r"fraction of the names .*" + hint,
    ):
        intro.check_fraction_seen(lambda: wrong)
