"""The book's schematics: each is readable with nothing clipped, and each
shows what the package computes."""

import json
import re
from pathlib import Path

import matplotlib
import numpy as np
import pytest

from microgpt import figures, gpt_numpy
from microgpt.batch import batch_arrays
from microgpt.config import ModelConfig
from microgpt.data import Tokenizer
from microgpt.figures import draw, generation, numpy_primer
from microgpt.layers_numpy import split_heads

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

BOOK = Path(__file__).resolve().parents[1] / "book"


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def texts(fig):
    return [t.get_text() for t in fig.findobj(plt.Text) if t.get_text()]


@pytest.mark.parametrize("name", sorted(figures.SCHEMATICS))
def test_each_schematic_is_readable_at_a_phones_width(name):
    fig = getattr(figures, name)()
    assert isinstance(fig, matplotlib.figure.Figure)
    width, _ = fig.get_size_inches()
    assert width <= draw.MAX_WIDTH and fig.dpi == draw.DPI
    assert draw.layout_problems(fig) == []
    sizes = [t.get_fontsize() for t in fig.findobj(plt.Text) if t.get_text()]
    assert sizes and min(sizes) >= draw.MIN_SIZE
    assert fig.schematic_boxes  # some labels are checked against boxes


def bare():
    fig, ax = draw.canvas(3, 2)
    draw.box(ax, 1.5, 1, 1.2, 0.5, "a box")
    return fig, ax


def test_the_check_finds_a_label_clipped_by_the_canvas():
    fig, ax = bare()
    draw.label(ax, 2.95, 1.8, "logits")
    assert draw.layout_problems(fig) == ["'logits' leaves the canvas"]


def test_the_check_finds_a_label_that_leaves_its_box():
    fig, ax = bare()
    assert draw.layout_problems(fig) == []
    patch, text = fig.schematic_boxes[0]
    text.set_x(2.0)  # pushed right, as a too-long label would be
    assert draw.layout_problems(fig) == ["'a box' leaves its box"]


def test_the_check_finds_two_labels_on_top_of_each_other():
    fig, ax = bare()
    draw.label(ax, 1.5, 0.3, "tokens")
    draw.label(ax, 1.7, 0.3, "GPT")
    assert draw.layout_problems(fig) == ["'tokens' overlaps 'GPT'"]


def test_the_check_finds_small_print_and_a_wide_figure():
    fig, ax = bare()
    ax.text(0.5, 0.3, "tiny", fontsize=6)
    fig.set_size_inches(8, 2)
    problems = draw.layout_problems(fig)
    assert "'tiny' is 6.0 pt" in problems
    assert "8.00 in wide, more than 7.0" in problems


def test_a_box_shrinks_its_label_to_fit_and_refuses_what_cannot():
    fig, ax = draw.canvas(3, 2)
    draw.box(ax, 1.5, 1.5, 1.0, 0.4, "a longer label")
    _, text = fig.schematic_boxes[0]
    assert draw.MIN_SIZE <= text.get_fontsize() < draw.SIZE
    with pytest.raises(ValueError, match="does not fit"):
        draw.box(ax, 1.5, 0.5, 0.4, 0.3, "far too long for this box")
    with pytest.raises(ValueError, match="wider than"):
        draw.canvas(7.5, 2)


def test_the_graph_shows_what_the_engine_computes():
    shown = texts(figures.expression_graph())
    # chapter 3's L = (ab + c) a at a=2, b=-3, c=10, with e = ab, d = e + c
    assert "L = 8" in shown and "grad 1" in shown
    assert shown.count("grad 2") == 3  # c, d and e
    assert "grad \u22122" in shown and "grad 4" in shown  # a and b


def test_shapes_follow_the_config():
    cfg = ModelConfig(n_embd=32, n_head=4, vocab_size=30)
    shown = " ".join(texts(figures.model_shapes(cfg)))
    assert "(T, 32)" in shown and "(T, 30)" in shown
    assert "(T, 16)" not in shown
    assert "(4, 8)" in " ".join(texts(figures.attention_head(cfg)))


def test_the_packing_mask_is_the_packages():
    fig = figures.packing(("ava", "jo"), ModelConfig(block_size=8))
    shown = texts(fig)
    assert shown[:7] == ["BOS", "a", "v", "a", "BOS", "j", "o"]
    with pytest.raises(ValueError, match="do not fit"):
        figures.packing(("christopher", "yuheng"))


def test_the_packing_row_is_chapter_13s_first_row():
    # Chapter 13 prints the batch ava, yuheng, jo, christopher: its first
    # row holds the three short names in 14 positions, with no padding.
    names = ("ava", "yuheng", "jo", "christopher")
    tok = Tokenizer.from_docs(list(names))
    cfg = ModelConfig(vocab_size=tok.vocab_size)
    pos = batch_arrays([tok.frame(n) for n in names], cfg).positions
    shown = texts(figures.packing())
    assert shown[:14] == [
        "BOS",
        "a",
        "v",
        "a",
        "BOS",
        "y",
        "u",
        "h",
        "e",
        "n",
        "g",
        "BOS",
        "j",
        "o",
    ]
    assert shown[15:29] == [str(p) for p in pos[0]]
    assert "padding" not in shown
    padded = texts(figures.packing(width=16))
    assert "padding" in padded
    with pytest.raises(ValueError, match="cannot hold"):
        figures.packing(width=17)


def test_the_training_loop_counts_steps_as_the_text_does():
    # Chapter 9 numbers the steps kappa = 1, ..., 1000, with the rate
    # 0.01 (1 - (kappa - 1) / 1000), which ends at 1e-05, not at 0.
    shown = " ".join(texts(figures.training_loop()))
    assert "step \u03ba = 1, 2, \u2026, 1000" in shown
    assert "(\u03ba \u2212 1) / 1000), down to 1e-05" in shown
    assert "k = 0" not in shown


def test_the_schematics_are_listed_and_an_unknown_name_is_an_error():
    # The API appendix's autodoc lists what dir() returns.
    assert set(figures.SCHEMATICS) <= set(dir(figures))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        figures.nope  # noqa: B018


def picture_cells():
    """Each notebook's hidden cells that draw a schematic: {name: file}.

    The notebooks are the chapters and the appendix's NumPy primer.
    """
    drawn = {}
    for path in sorted(
        [*BOOK.glob("[0-9][0-9]_*.ipynb"), *BOOK.glob("appendix_*.ipynb")]
    ):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            source = "".join(cell["source"])
            match = re.search(r"from microgpt\.figures import (\w+)", source)
            if (
                cell["cell_type"] == "code"
                and match
                and match.group(1) in figures.SCHEMATICS
            ):
                assert "hide-input" in cell["metadata"].get("tags", [])
                drawn[match.group(1)] = path.name
    return drawn


def test_every_schematic_is_drawn_in_a_chapter_from_2_to_13():
    drawn = picture_cells()
    assert set(drawn) == set(figures.SCHEMATICS)
    chapters = {int(name[:2]) for name in drawn.values() if name[:2].isdigit()}
    # Every chapter of microgpt itself; the chapters beyond it may add.
    assert set(range(1, 14)) <= chapters


# Chapter 15: top-k and top-p filtering, and the work a cache saves.


@pytest.mark.parametrize("top_k, top_p", [(3, 0.8), (2, 0.5), (5, 0.95)])
def test_the_filtering_picture_cuts_where_the_package_does(top_k, top_p):
    probs = np.array([p for _, p in generation.EXAMPLE])
    assert probs.sum() == pytest.approx(1)
    kept_k = np.count_nonzero(gpt_numpy.top_filter(probs, top_k=top_k))
    kept_p = np.count_nonzero(gpt_numpy.top_filter(probs, top_p=top_p))
    fig = generation.top_filtering(top_k, top_p)
    shown = " ".join(texts(fig))
    assert f"top-k, k = {top_k}: keep the {kept_k} largest" in shown
    assert (
        f"top-p, p = {top_p:g}: keep {kept_p}, together "
        f"{probs[:kept_p].sum():.2f}" in shown
    )
    assert draw.layout_problems(fig) == []


@pytest.mark.parametrize("steps", [4, 6])
def test_the_cache_picture_counts_the_positions_run(steps):
    fig = generation.kv_cache_work(steps)
    shown = texts(fig)
    assert (
        f"{steps * (steps + 1) // 2} positions run for {steps} tokens" in shown
    )
    assert f"{steps} positions run for {steps} tokens" in shown
    # The picture has one "run" cell per position run, in the triangle
    # without the cache and on the diagonal with it.
    assert shown.count("run") == steps * (steps + 1) // 2 + steps
    assert draw.layout_problems(fig) == []


# The NumPy primer: splitting the width into heads.


def test_the_splits_are_numpys_and_only_the_right_one_keeps_rows():
    x, right, wrong = numpy_primer.head_splits(3, 2, 2)
    assert x.tolist() == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]]
    assert right.tolist() == [
        [[0, 1], [4, 5], [8, 9]],
        [[2, 3], [6, 7], [10, 11]],
    ]
    assert wrong.tolist() == [
        [[0, 1], [2, 3], [4, 5]],
        [[6, 7], [8, 9], [10, 11]],
    ]
    assert numpy_primer.first_mixed(right, 4) is None
    assert numpy_primer.first_mixed(wrong, 4) == (0, 1)


def test_the_layers_head_split_is_the_right_one():
    # The package splits a batch of rows (B, T, C) the same way.
    x, right, _ = numpy_primer.head_splits(4, 2, 2)
    assert np.array_equal(split_heads(x[None], 2)[0], right)


@pytest.mark.parametrize("shape", [(3, 2, 2), (4, 2, 2), (5, 4, 1), (2, 2, 1)])
def test_the_picture_shows_every_number_and_clips_nothing(shape):
    T, n_head, head_dim = shape
    fig = numpy_primer.head_reshape(T, n_head, head_dim)
    shown = texts(fig)
    numbers = [s for s in shown if s.isdigit()]
    # Each number appears in x and in both splits.
    assert sorted(numbers, key=int) == sorted(
        [str(v) for v in range(T * n_head * head_dim)] * 3, key=int
    )
    assert draw.layout_problems(fig) == []
    assert fig.get_size_inches()[0] <= draw.MAX_WIDTH


def test_the_verdict_names_the_first_mixed_row():
    shown = " ".join(texts(numpy_primer.head_reshape()))
    assert "x.reshape(3, 2, 2).transpose(1, 0, 2)" in shown
    assert "x.reshape(2, 3, 2)" in shown
    assert "head 0, row 1\nholds pos 0's numbers" in shown


@pytest.mark.parametrize("shape", [(6, 2, 2), (3, 1, 4), (3, 2, 3)])
def test_a_shape_without_room_is_refused(shape):
    with pytest.raises(ValueError, match="has room for"):
        numpy_primer.head_reshape(*shape)
