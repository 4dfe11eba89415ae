"""The student copies as a handout: plain Markdown, and a README.

The book's Markdown uses MyST, which Jupyter shows as raw text: labels
``(ch-data)=``, roles ``{ref}`ch-data``` and ``{cite}`key```, and
``{literalinclude}`` blocks that print the package's code. A handout
turns them into what they stand for: "chapter 2 (Data and tokenizer)",
"(Karpathy 2026)", and the code itself; the worked answers of the
questions, collapsed in the book, are left out.
"""

import ast
import re
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

LABEL = re.compile(r"^\(([\w-]+)\)=[ \t]*\n", re.M)
REF = re.compile(r"\{ref\}`([^`<]*?)(?:\s*<([\w-]+)>)?`")
CITE = re.compile(r"\{cite(?::\w+)?\}`([^`]+)`")
INCLUDE = re.compile(r"```\{literalinclude\} (\S+)\n((?::[\w-]+:[^\n]*\n)*)"
                     r"```")
# A question's worked answer, collapsed in the book: a solution, so the
# handout leaves it out.
ANSWER = re.compile(r"^:::\{admonition\} Answer[ \t]*\n(?:.*\n)*?:::[ \t]*"
                    r"(?:\n|$)", re.M)


def labels(book):
    """label -> how a reader names it, from each page's first lines."""
    out = {}
    for page in sorted(Path(book).glob("*.ipynb")) + sorted(
            Path(book).glob("*.md")):
        if page.suffix == ".ipynb":
            import nbformat
            cells = nbformat.read(page, as_version=4).cells
            text = cells[0].source if cells else ""
        else:
            text = page.read_text(encoding="utf-8")
        label = LABEL.search(text)
        title = re.search(r"^# (.+)$", text, re.M)
        if label and title:
            head = page.name.split("_", 1)[0]
            is_chapter = page.suffix == ".ipynb" and head.isdigit()
            out[label.group(1)] = (f"chapter {int(head)} ({title.group(1)})"
                                   if is_chapter else
                                   f'the page "{title.group(1)}"')
    return out


def citations(bib):
    """BibTeX key -> "Author Year", from a .bib file's author and year."""
    out = {}
    text = Path(bib).read_text(encoding="utf-8")
    for entry in re.split(r"\n(?=@)", text):
        key = re.match(r"@\w+\{([^,]+),", entry.strip())
        authors = re.search(r"author\s*=\s*\{(.+?)\},?\n", entry)
        year = re.search(r"year\s*=\s*\{?(\d{4})", entry)
        if not (key and authors and year):
            continue
        names = [a.split(",")[0].strip("{} ")
                 for a in authors.group(1).split(" and ")]
        who = (names[0] if len(names) == 1 else
               f"{names[0]} and {names[1]}" if len(names) == 2 else
               f"{names[0]} et al.")
        out[key.group(1)] = f"{who} {year.group(1)}"
    return out


def _pyobject(source, name):
    """The lines of a function or class (dotted for methods) in source."""
    nodes = ast.parse(source).body
    node = None
    for part in name.split("."):
        node = next(n for n in nodes if getattr(n, "name", None) == part)
        nodes = node.body
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return source.splitlines()[start - 1:node.end_lineno]


def include(path, options):
    """The code a literalinclude block prints, with its options applied."""
    source = Path(path).read_text(encoding="utf-8")
    lines = source.splitlines()
    if "pyobject" in options:
        lines = _pyobject(source, options["pyobject"])
    if "start-at" in options:
        at = next(i for i, line in enumerate(lines)
                  if options["start-at"].strip('"') in line)
        lines = lines[at:]
    if "end-before" in options:
        end = next(i for i, line in enumerate(lines)
                   if options["end-before"].strip('"') in line)
        lines = lines[:end]
    return "\n".join(lines)


def plain(text, refs, cites, book):
    """Markdown with the book's MyST labels, roles and includes resolved."""
    def known(table, key, what):
        if key not in table:
            raise ValueError(f"unknown {what} {key!r}")
        return table[key]

    def ref(m):
        if m.group(2):
            return m.group(1).strip()
        return known(refs, m.group(1), "cross-reference")

    def cite(m):
        return "(" + "; ".join(known(cites, k.strip(), "citation")
                               for k in m.group(1).split(",")) + ")"

    def code(m):
        options = dict(line[1:].split(":", 1)
                       for line in m.group(2).splitlines())
        options = {k: v.strip() for k, v in options.items()}
        return ("```python\n"
                + include(Path(book) / m.group(1), options) + "\n```")

    text = LABEL.sub("", text)
    text = ANSWER.sub("", text)
    text = INCLUDE.sub(code, text)
    text = REF.sub(ref, text)
    return CITE.sub(cite, text)


def readme():
    """The handout's README: set-up, the dataset, how the checks report."""
    try:
        pin = f"=={version('microgpt-book')}"
    except PackageNotFoundError:
        pin = ""
    return f"""# microgpt, the book: the exercises

These are the chapters of *microgpt, the book*, with every exercise's
solution taken out. Each chapter derives one piece of a small GPT and ends
with exercises; after each exercise, a check runs your answer.

## Set up (once)

With Python 3.11 or newer, in this folder:

```bash
python3 -m venv .venv
.venv/bin/pip install "microgpt-book[torch]{pin}" \\
    jupyterlab matplotlib ipywidgets
.venv/bin/jupyter lab
```

Then open a chapter (`02_data.ipynb`, ...) and run it from the top
(Run → Run All Cells). Each chapter runs in under a minute on a laptop.

## The dataset

The first chapter that needs the names downloads `names.txt` (about
230 kB) into `~/.cache/microgpt/` and checks its SHA-256. Offline, point
`MICROGPT_DATA` at a copy of the same file, with an absolute path, before
starting Jupyter: `export MICROGPT_DATA=/absolute/path/to/names.txt`.

## How an exercise works

An exercise's cell holds the start of a function and
`raise NotImplementedError`: replace that line with your code. The cell
after it runs the check, which prints one line:

- `✓ ...: matches the reference`: done;
- `… chapter N, exercise M is not written yet`: the notebook runs on;
- `✗ chapter N, exercise M: ...`: where your answer first differs from
  the reference, by how much, and, for a common mistake, which one it
  looks like.

While a check runs your answer, the package's own version of what the
exercise asks for is turned off: calling it fails the check, and the
message says so. Everything else in the package is yours to use.

## Handing in

Hand in the notebooks as your instructor asks. They are graded by running
them from the top, as you run them, so make sure Run All goes through.
In a repository of your own on GitHub (GitHub Classroom's, say), the
workflow `.github/workflows/grade.yml` grades them on every push: the
run's summary page shows your points, exercise by exercise, and its
artifact `grades` what each check said.
"""
