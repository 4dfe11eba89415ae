"""The whole book as one PDF, printed from its built pages by Chromium.

Run after ``jupyter-book build .``::

    python book/_ext/book_pdf.py [_build/html]

Every page of the table of contents (_toc.yml: the cover, the chapters,
the appendix) is served from the built site on 127.0.0.1, opened in
Debian's Chromium under Playwright, typeset by the site's own MathJax, and
printed with the book's print styles (book/_ext/site/static/book_site.css:
code wraps at the page's edge, screen-only controls are left out). The
pages are joined in order into ``microgpt-book.pdf`` beside the site's
pages, with one bookmark per page. A link to another page of the book
becomes a link inside the PDF, to the first page of that chapter; a link
to the site's other files (source listings, notebooks) is dropped, since
the PDF does not have them.

Before printing, each page is laid out for print and checked: the script
stops, naming the page and the block, if a code block, table, equation or
image is wider than the printed page; a table or display equation that is
too wide is first set smaller, to fit. Last, every page's "Download the book
as PDF" link gets the file's size.
"""

import argparse
import functools
import http.server
import io
import os
import re
import sys
import threading
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NAME = "microgpt-book.pdf"
CHROMIUM = os.environ.get("MICROGPT_CHROMIUM", "/usr/lib/chromium/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--headless",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# A4 with 15 mm margins; the page's width in CSS pixels (96 per inch)
# is what the layout check compares against.
PAPER = {
    "format": "A4",
    "margin": {
        "top": "15mm",
        "bottom": "18mm",
        "left": "15mm",
        "right": "15mm",
    },
}
PRINT_WIDTH = round((210 - 30) / 25.4 * 96)  # 680 CSS pixels
FOOTER = (
    '<div style="font-size:8px;width:100%;text-align:center;'
    'color:#555"><span class="title"></span> &middot; '
    '<span class="pageNumber"></span></div>'
)
SIZE_SLOT = '<span class="microgpt-pdf-size"></span>'

# In the page, laid out for print: wait for MathJax and the fonts, then
# list every block wider than the page's text, and count the figures.
READY = """async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await document.fonts.ready;
  await Promise.all([...document.images].filter((i) => !i.complete)
    .map((i) => new Promise((ok) => { i.onload = i.onerror = ok; })));
  const article = document.querySelector(".bd-article") || document.body;
  const right = article.getBoundingClientRect().right;
  // A table wider than the page is zoomed out, to fit.
  for (const t of article.querySelectorAll("table")) {
    for (let zoom = 1, tries = 0; tries < 4; tries++) {
      const box = t.getBoundingClientRect();
      if (box.right <= right + 1) break;
      zoom = Math.floor(1000 * zoom * (right - box.left) / box.width
                        - 10) / 1000;
      t.style.zoom = `${zoom}`;
    }
  }
  // A display equation wider than the page is set smaller, to fit.
  for (const m of article.querySelectorAll("mjx-container[display]")) {
    for (let scale = 100, tries = 0; tries < 4; tries++) {
      const room = Math.min(m.clientWidth,
                            right - m.getBoundingClientRect().left);
      if (m.scrollWidth <= room + 1) break;
      scale = Math.floor(scale * room / m.scrollWidth) - 1;
      m.style.fontSize = `${scale}%`;
    }
  }
  const wide = [];
  const blocks = article.querySelectorAll(
    "pre, table, mjx-container[display], img, .cell_output");
  for (const b of blocks) {
    if (!b.getClientRects().length) continue;  // not printed
    const box = b.getBoundingClientRect();
    const over = Math.max(box.right - right, b.scrollWidth - b.clientWidth);
    if (over > 1) {
      wide.push(`${b.tagName.toLowerCase()} ${Math.round(over)} px too ` +
        `wide: ${b.textContent.trim().slice(0, 60)}`);
    }
  }
  const title = article.querySelector("h1");
  return {
    title: title ? title.textContent.replace(/#$/, "").trim() : "",
    figures: [...article.querySelectorAll("img")]
      .filter((i) => i.getClientRects().length).length,
    wide: wide,
  };
}"""


class PdfError(Exception):
    """What stops the PDF, said in one line."""


def toc_pages(root=ROOT):
    """The pages of _toc.yml in reading order, as HTML paths."""
    import yaml

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    files = [toc["root"]]
    for part in toc.get("parts", []):
        files += [entry["file"] for entry in part.get("chapters", [])]
    return [f"{Path(f).with_suffix('')}.html" for f in files]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def serve(html):
    """The site on a free port of 127.0.0.1: (server, base URL)."""
    handler = functools.partial(_Quiet, directory=str(html))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def print_pages(html, names, chromium=CHROMIUM):
    """Each page printed: a list of (name, report, PDF bytes)."""
    from playwright.sync_api import sync_playwright

    if not Path(chromium).is_file():
        raise PdfError(
            f"Chromium is missing at {chromium}: apt-get install "
            "chromium, or set MICROGPT_CHROMIUM"
        )
    server, base = serve(html)
    printed = []
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(
                executable_path=chromium, args=CHROMIUM_ARGS
            )
            page = browser.new_page(
                viewport={"width": PRINT_WIDTH, "height": 1000}
            )
            page.set_default_timeout(60_000)
            page.emulate_media(media="print")
            for name in names:
                response = page.goto(base + name)
                if response is None or response.status != 200:
                    raise PdfError(f"{name} is not in the built site {html}")
                report = page.evaluate(READY)
                if report["wide"]:
                    raise PdfError(
                        f"{name}: wider than the printed page: "
                        + "; ".join(report["wide"][:5])
                    )
                pdf = page.pdf(
                    print_background=True,
                    outline=True,
                    display_header_footer=True,
                    header_template="<span></span>",
                    footer_template=FOOTER,
                    **PAPER,
                )
                printed.append((name, report, pdf))
            browser.close()
    finally:
        server.shutdown()
        server.server_close()
    return printed, base


def join(printed, base, out):
    """One PDF from the printed pages, bookmarked, its links made inner.

    Returns a list of (name, title, first page, figures), one per page.
    """
    from pypdf import PdfReader, PdfWriter
    from pypdf.generic import (
        ArrayObject,
        DictionaryObject,
        NameObject,
        NumberObject,
    )

    writer = PdfWriter()
    contents = []
    for name, report, pdf in printed:
        first = len(writer.pages)
        writer.append(
            PdfReader(io.BytesIO(pdf)), outline_item=report["title"] or name
        )
        contents.append((name, report["title"], first, report["figures"]))
    starts = {name: first for name, _, first, _ in contents}
    for page in writer.pages:
        annots = page.get("/Annots")
        if annots is None:
            continue
        kept = ArrayObject()
        for ref in annots.get_object():
            annot = ref.get_object()
            action = annot.get("/A")
            uri = action.get_object().get("/URI") if action else None
            if uri is None or not str(uri).startswith(base):
                kept.append(ref)
                continue
            target = str(uri)[len(base) :].split("#")[0]
            if target in starts:
                annot[NameObject("/A")] = DictionaryObject(
                    {
                        NameObject("/S"): NameObject("/GoTo"),
                        NameObject("/D"): ArrayObject(
                            [
                                writer.pages[
                                    starts[target]
                                ].indirect_reference,
                                NameObject("/XYZ"),
                                NumberObject(0),
                                NumberObject(10_000),
                                NumberObject(0),
                            ]
                        ),
                    }
                )
                kept.append(ref)
        page[NameObject("/Annots")] = kept
    writer.add_metadata(
        {
            "/Title": "microgpt, the book",
            "/Author": "The microgpt book authors",
        }
    )
    writer.compress_identical_objects(
        remove_duplicates=True, remove_unreferenced=True
    )
    with open(out, "wb") as f:
        writer.write(f)
    return contents


def size_text(nbytes):
    """A file's size as a reader reads it: 4.2 MB, 850 kB."""
    if nbytes >= 1_000_000:
        return f"{nbytes / 1_000_000:.1f} MB"
    return f"{max(1, round(nbytes / 1000))} kB"


def stamp_size(html, pdf):
    """Every page's PDF link says the PDF's size. Returns the pages."""
    size = f" ({size_text(pdf.stat().st_size)})"
    stamped = 0
    for page in sorted(Path(html).rglob("*.html")):
        text = page.read_text(encoding="utf-8")
        new = re.sub(
            r'<span class="microgpt-pdf-size">[^<]*</span>',
            SIZE_SLOT.replace("><", f">{size}<"),
            text,
        )
        if new != text:
            page.write_text(new, encoding="utf-8")
            stamped += 1
    return stamped


def build(html, out=None, names=None):
    """The book's PDF from the built site html. Returns (path, contents)."""
    html = Path(html)
    out = Path(out) if out else html / NAME
    printed, base = print_pages(html, names or toc_pages())
    contents = join(printed, base, out)
    return out, contents


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="book_pdf", description="Print the built book to one PDF."
    )
    parser.add_argument(
        "html",
        nargs="?",
        default=str(ROOT / "_build" / "html"),
        help="the built site (default: _build/html)",
    )
    args = parser.parse_args(argv)
    html = Path(args.html)
    if not (html / "index.html").is_file():
        parser.exit(
            2,
            f"book_pdf: error: no built book in {html}: run "
            "jupyter-book build . first\n",
        )
    try:
        out, contents = build(html)
    except PdfError as e:
        parser.exit(1, f"book_pdf: error: {e}\n")
    stamped = stamp_size(html, out)
    pages = sum(1 for _ in _pages(out))
    print(
        f"{out}: {size_text(out.stat().st_size)}, {pages} pages, "
        f"{len(contents)} chapters and appendices; the link on "
        f"{stamped} pages says so"
    )


def _pages(pdf):
    from pypdf import PdfReader

    return PdfReader(pdf).pages


if __name__ == "__main__":
    sys.exit(main())
