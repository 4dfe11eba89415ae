"""The whole book as one PDF (book/_ext/book_pdf.py), from the strict build.

The PDF is printed once per run from the build that test_book.py and
test_browser.py share, by the same Debian Chromium, and read back with
pypdf: every page of the table of contents is in it under its title (the
chapters numbered as their files are), every figure is in it, no raw TeX
or MyST markup survives, nothing is wider than the printed page, its links
stay inside it, and every page's link to it states its size. Without
Chromium or Playwright the tests fail, saying so; they are never skipped.
"""

import json
import re
import shutil
import sys
import unicodedata
from pathlib import Path

import pytest
from book_build import book_build  # noqa: F401 (a fixture)

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
import book_pdf  # noqa: E402

pytestmark = pytest.mark.browser

# Markup that must have been rendered: TeX commands, MyST roles and
# directives, label lines, code fences.
RAW = re.compile(
    r"\\(frac|sqrt|mathbf|mathrm|operatorname|begin\{|end\{|sum_|hat\{|"
    r"left[(\[]|right[)\]]|text\{|softmax|rms)"
    r"|\{(cite|ref|numref|eq|doc|math|literalinclude|figure|code-cell)\}"
    r"|:pyobject:|^```|^:::|^\([a-z0-9-]+\)=$|\$\$",
    re.MULTILINE,
)


@pytest.fixture(scope="module")
def book(book_build, tmp_path_factory):
    """(pdf path, contents, reader, text of each page), or why there is none.

    A reason, not a failure here: each test then fails with it.
    """
    from pypdf import PdfReader

    assert book_build.returncode == 0, book_build.log[-6000:]
    out = tmp_path_factory.mktemp("pdf") / book_pdf.NAME
    try:
        path, contents = book_pdf.build(book_build.html, out)
    except (book_pdf.PdfError, ImportError) as e:
        return str(e)
    reader = PdfReader(path)
    texts = [
        unicodedata.normalize("NFKC", p.extract_text() or "")
        for p in reader.pages
    ]
    return path, contents, reader, texts


def made(book):
    if isinstance(book, str):
        pytest.fail(f"no PDF: {book}", pytrace=False)
    return book


def titles():
    """Each page of _toc.yml: (HTML name, the title its source gives)."""
    found = []
    for name in book_pdf.toc_pages():
        source = ROOT / name.replace(".html", ".md")
        if source.is_file():
            text = source.read_text(encoding="utf-8")
        else:
            nb = json.loads(
                source.with_suffix(".ipynb").read_text(encoding="utf-8")
            )
            text = "\n".join(
                "".join(c["source"])
                for c in nb["cells"]
                if c["cell_type"] == "markdown"
            )
        title = re.search(r"^# (.+)$", text, re.MULTILINE).group(1)
        found.append((name, title.strip()))
    return found


def squeeze(text):
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", text))


def test_every_chapter_is_in_the_pdf_under_its_numbered_title(book):
    path, contents, reader, texts = made(book)
    expected = titles()
    assert [name for name, *_ in contents] == [n for n, _ in expected]
    outline = [
        item.title for item in reader.outline if not isinstance(item, list)
    ]
    assert len(outline) == len(expected), outline
    starts = [first for _, _, first, _ in contents] + [len(texts)]
    for (name, title), mark, first, end in zip(
        expected, outline, starts, starts[1:]
    ):
        number = re.match(r"book/(\d\d)_", name)
        want = f"{int(number.group(1))}. {title}" if number else title
        assert mark == want, (name, mark)
        assert end > first, f"{name}: no page"
        # The title as printed at the top of its first page (long titles
        # wrap, hence the squeezed white space).
        assert squeeze(want) in squeeze(texts[first]), (
            name,
            texts[first][:200],
        )


def image_count(page):
    """The images a page draws, counted without decoding them."""
    resources = page.get("/Resources")
    xobjects = resources.get_object().get("/XObject") if resources else None
    if xobjects is None:
        return 0
    return sum(
        1
        for ref in xobjects.get_object().values()
        if ref.get_object().get("/Subtype") == "/Image"
    )


def test_every_figure_is_in_the_pdf(book):
    path, contents, reader, texts = made(book)
    starts = [first for _, _, first, _ in contents] + [len(texts)]
    short = []
    total = 0
    for (name, _, first, figures), end in zip(contents, starts[1:]):
        images = sum(image_count(reader.pages[i]) for i in range(first, end))
        total += figures
        if images < figures:
            short.append(f"{name}: {images} images for {figures} figures")
    assert total >= 60, f"only {total} figures on the printed pages"
    assert not short, "\n".join(short)


def read(page):
    """A page's prose (what is not set in a monospace font: code is) and
    its text that runs past the page's right edge.

    A monospace glyph is 0.6 of the font size wide, so a run of code ends
    where its length says; any other run is checked where it starts.
    """
    width = float(page.mediabox.width)
    prose, off = [], []

    def visit(text, cm, tm, font, size):
        name = str(font.get("/BaseFont", "")) if font is not None else ""
        mono = "Mono" in name or "Courier" in name
        if not mono:
            prose.append(text)
        if not text.strip():
            return
        x = cm[0] * tm[4] + cm[2] * tm[5] + cm[4]
        end = x + mono * len(text.rstrip()) * 0.6 * size * tm[0] * cm[0]
        if end > width:
            off.append(
                f"{text.strip()[:40]!r} ends at {end:.0f} of {width:.0f} pt"
            )

    page.extract_text(visitor_text=visit)
    return unicodedata.normalize("NFKC", "".join(prose)), off


@pytest.fixture(scope="module")
def pages(book):
    """read() of every page of the PDF."""
    path, contents, reader, texts = made(book)
    return [read(page) for page in reader.pages]


def test_the_markup_check_knows_raw_markup():
    for leftover in (
        "$$x$$",
        r"\frac{a}{b}",
        "{cite}`karpathy`",
        "(ch-data)=",
        "```{literalinclude} x.py",
        r"\softmax(z)",
        ":::{note}",
    ):
        assert RAW.search(leftover), leftover
    assert not RAW.search("the loss is 3.30, ln 27 (chapter 8)")


def test_no_raw_tex_or_myst_markup_survives(pages):
    # Code listings may hold TeX in a string (a plot's label): only the
    # prose is read.
    raw = []
    for i, (prose, _) in enumerate(pages):
        for m in RAW.finditer(prose):
            around = prose[max(0, m.start() - 40) : m.end() + 20]
            raw.append(f"page {i + 1}: ...{around}...")
    assert not raw, "\n".join(raw[:20])


def test_nothing_runs_off_the_page(book, pages):
    made(book)
    # Laid out for print, no block was wider than the page (build()
    # raises otherwise); and in the PDF, no line of code or text runs
    # past the right edge.
    off = [
        f"page {i + 1}: {o}" for i, (_, page) in enumerate(pages) for o in page
    ]
    assert not off, "\n".join(off[:20])


def test_a_code_line_too_long_for_the_page_is_refused(tmp_path):
    # A page without the book's print styles: its code does not wrap.
    site = tmp_path / "html"
    (site / "book").mkdir(parents=True)
    (site / "index.html").write_text("<p>index</p>", encoding="utf-8")
    (site / "book" / "wide.html").write_text(
        '<main><article class="bd-article"><h1>Wide</h1><pre '
        'style="white-space: pre">'
        + "x = 1  # "
        + "long " * 60
        + "</pre></article></main>",
        encoding="utf-8",
    )
    with pytest.raises(
        book_pdf.PdfError,
        match="book/wide.html: wider than the printed page: pre",
    ):
        book_pdf.build(site, tmp_path / "out.pdf", ["book/wide.html"])


def test_links_point_inside_the_pdf(book):
    path, contents, reader, texts = made(book)
    local = []
    inner = 0
    for i, page in enumerate(reader.pages):
        for ref in page.get("/Annots") or []:
            action = ref.get_object().get("/A")
            action = action.get_object() if action else {}
            uri = str(action.get("/URI", ""))
            if "127.0.0.1" in uri or "localhost" in uri:
                local.append(f"page {i + 1}: {uri}")
            inner += action.get("/S") == "/GoTo"
    assert not local, "\n".join(local[:10])
    assert inner > 20, f"only {inner} links between the book's pages"


def test_every_page_states_the_pdfs_size(book, book_build, tmp_path):
    path, contents, reader, texts = made(book)
    site = tmp_path / "html"
    shutil.copytree(
        book_build.html,
        site,
        ignore=shutil.ignore_patterns(
            "_static", "_images", "_sources", "lite"
        ),
    )
    stamped = book_pdf.stamp_size(site, path)
    pages = list(site.rglob("*.html"))
    links = [
        p
        for p in pages
        if "Download the book as PDF" in p.read_text(encoding="utf-8")
    ]
    assert stamped == len(links) and len(links) >= len(contents), (
        stamped,
        len(links),
    )
    size = book_pdf.size_text(path.stat().st_size)
    cover = (site / "book" / "cover.html").read_text(encoding="utf-8")
    assert "Download the book as PDF<span " in cover
    assert f'class="microgpt-pdf-size"> ({size})</span>' in cover, size
    assert re.fullmatch(r"\d+\.\d MB|\d+ kB", size), size


def test_the_command_line_says_what_is_missing(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit:
        book_pdf.main([str(tmp_path)])
    assert exit.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("book_pdf: error: no built book in ")
    assert err.count("\n") == 1 and "Traceback" not in err


def test_the_workflows_publish_the_pdf():
    import yaml

    def runs(name):
        wf = yaml.safe_load(
            (ROOT / ".github" / "workflows" / name).read_text("utf-8")
        )
        return [
            s["run"]
            for job in wf["jobs"].values()
            for s in job["steps"]
            if "run" in s
        ]

    for name in ("pages.yml", "release.yml"):
        steps = runs(name)
        build = [i for i, r in enumerate(steps) if "jupyter-book build" in r]
        pdf = [
            i for i, r in enumerate(steps) if "book_pdf.py _build/html" in r
        ]
        assert build and pdf and build[0] < pdf[0], (name, steps)
    assert any(
        "gh release upload" in r and "microgpt-book.pdf" in r
        for r in runs("release.yml")
    )
