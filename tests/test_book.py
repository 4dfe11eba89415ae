"""The book builds with Sphinx's strictest settings: no warning at all."""

import html as htmllib
import re

import pytest
from book_build import book_build  # noqa: F401 (a fixture)

pytestmark = pytest.mark.book


def test_strict_build_has_no_warnings(book_build):
    log = book_build.log
    assert book_build.returncode == 0, log[-6000:]
    assert "WARNING" not in log, log[-6000:]
    html = book_build.html
    for name in ("01_introduction", "09_training", "appendix_api"):
        assert (html / "book" / f"{name}.html").is_file(), name
    # Autodoc's output is reST; read as Markdown it would show up as
    # raw ".. py:function::" lines, with no warning at all.
    api = (html / "book" / "appendix_api.html").read_text(encoding="utf-8")
    assert ".. py:" not in api
    for name in (
        "gpt_numpy.train_step",
        "layers_numpy.attention_forward",
        "batch.pack",
        "bench.tools.time_steps",
        "heap.keep_freed_memory",
        "engine.Value.relu",
        "course.checks.efficiency.check_packed_positions",
    ):
        assert f'id="microgpt.{name}"' in api, name
    # Math that MyST did not recognize (say, $$ in the middle of a
    # paragraph) is printed as plain text with its dollar signs, again
    # with no warning. The chapters use "$" for math only (the API page
    # does not: it names $XDG_CACHE_HOME).
    chapters = sorted((html / "book").glob("[01][0-9]_*.html"))[:14]
    assert chapters[-1].name == "14_data_parallel.html"
    for page in chapters:
        assert stray_dollars(page.read_text(encoding="utf-8")) == [], page.name


def stray_dollars(page):
    """Snippets of a page's prose around any "$" left outside math/code."""
    for tag in ("script", "style", "pre", "code"):
        page = re.sub(rf"<{tag}\b.*?</{tag}>", "", page, flags=re.S)
    page = re.sub(
        r'<(span|div) class="math[^"]*">.*?</\1>', "", page, flags=re.S
    )
    text = htmllib.unescape(re.sub(r"<[^>]+>", "", page))
    return [
        text[max(0, m.start() - 40) : m.start() + 40]
        for m in re.finditer(r"\$", text)
    ]


def test_solutions_read_as_solutions(book_build):
    """Each exercise's solution is collapsed behind "Show solution"."""
    from microgpt.course.checks.exercise import all_exercises

    assert book_build.returncode == 0, book_build.log[-6000:]
    per_chapter = {}
    for e in all_exercises():
        per_chapter[e.chapter] = per_chapter.get(e.chapter, 0) + 1
    for chapter, count in per_chapter.items():
        [page] = (book_build.html / "book").glob(f"{chapter:02d}_*.html")
        text = page.read_text(encoding="utf-8")
        assert text.count("Show solution") == count, page
        # nbval's markers are cell tags, not comments a reader sees first
        assert "NBVAL_IGNORE_OUTPUT" not in text, page
        # and nbgrader's lines around an answer are not shown either
        assert "BEGIN SOLUTION" not in text, page
        assert "END SOLUTION" not in text, page
        assert text.count("raise NotImplementedError") == 0, page
