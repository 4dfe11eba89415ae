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
INCLUDE = re.compile(
    r"```\{literalinclude\} (\S+)\n((?::[\w-]+:[^\n]*\n)*)"
    r"```"
)
# An exercise's statement starts with its number, in bold ("**Exercise 5
# (explain: ...).**", "**3. Weights you can draw.**") or in a heading
# ("### 2. Temperature").
NUMBERED = re.compile(
    r"^(?:\*\*|### )(?:Exercise )?(\d+)\b(?:[^*\n]*\*\*|[^\n]*)", re.M
)
# Any other admonition ("What you need from earlier chapters"): its title
# and its text.
ADMONITION = re.compile(
    r"^(:::|```)\{admonition\} ([^\n]*)\n(?::[\w-]+:[^\n]*\n)*"
    r"((?:.*\n)*?)\1[ \t]*(?:\n|$)",
    re.M,
)
# The metadata key of the cell where a student answers a question in words.
EXPLAIN = "microgpt_explain"
YOUR_ANSWER = "**Your answer** (in words; not auto-graded):"
# The glossary's block: a term on a line, its definition indented below.
GLOSSARY = re.compile(r"```\{glossary\}\n(.*?)\n```", re.S)
# A question's worked answer, collapsed in the book: a solution, so the
# handout leaves it out, unless the instructor hands out the answers.
ANSWER = re.compile(
    r"^:::\{admonition\} Answer[ \t]*\n(?:.*\n)*?:::[ \t]*"
    r"(?:\n|$)",
    re.M,
)


def labels(book, here=()):
    """label -> how a reader names it, from each page's first lines.

    here: the names of the pages that travel with the handout; a reference
    to one of them says where it is.
    """
    out = {}
    for page in sorted(Path(book).glob("*.ipynb")) + sorted(
        Path(book).glob("*.md")
    ):
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
            out[label.group(1)] = (
                f"chapter {int(head)} ({title.group(1)})"
                if is_chapter
                else f'the page "{title.group(1)}"'
                + (
                    f" ({page.name} in this folder)"
                    if page.name in here
                    else ""
                )
            )
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
        names = [
            a.split(",")[0].strip("{} ")
            for a in authors.group(1).split(" and ")
        ]
        who = (
            names[0]
            if len(names) == 1
            else f"{names[0]} and {names[1]}"
            if len(names) == 2
            else f"{names[0]} et al."
        )
        out[key.group(1)] = f"{who} {year.group(1)}"
    return out


def _pyobject(source, name):
    """The lines of a function or class (dotted for methods) in source."""
    nodes = ast.parse(source).body
    node = None
    for part in name.split("."):
        node = next(
            (n for n in nodes if getattr(n, "name", None) == part), None
        )
        if node is None:
            raise ValueError(f"no {name} to include")
        nodes = node.body
    start = min([node.lineno] + [d.lineno for d in node.decorator_list])
    return source.splitlines()[start - 1 : node.end_lineno]


def include(path, options):
    """The code a literalinclude block prints, with its options applied."""
    source = Path(path).read_text(encoding="utf-8")
    lines = source.splitlines()
    if "pyobject" in options:
        lines = _pyobject(source, options["pyobject"])
    if "start-at" in options:
        at = next(
            i
            for i, line in enumerate(lines)
            if options["start-at"].strip('"') in line
        )
        lines = lines[at:]
    if "end-before" in options:
        end = next(
            i
            for i, line in enumerate(lines)
            if options["end-before"].strip('"') in line
        )
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
        return (
            "("
            + "; ".join(
                known(cites, k.strip(), "citation")
                for k in m.group(1).split(",")
            )
            + ")"
        )

    def code(m):
        options = dict(
            line[1:].split(":", 1) for line in m.group(2).splitlines()
        )
        options = {k: v.strip() for k, v in options.items()}
        try:
            code = include(Path(book) / m.group(1), options)
        except (OSError, ValueError, StopIteration) as e:
            raise ValueError(f"{{literalinclude}} {m.group(1)}: {e}") from e
        return "```python\n" + code + "\n```"

    text = LABEL.sub("", text)
    text = ANSWER.sub("", text)
    text = ADMONITION.sub(_quoted, text)
    text = GLOSSARY.sub(lambda m: _definitions(m.group(1)), text)
    text = INCLUDE.sub(code, text)
    text = REF.sub(ref, text)
    # "the page {ref}`ch-notation`" would say "the page" twice.
    text = re.sub(r"\b(the (?:page|appendix))\s+the page ", r"\1 ", text)
    return CITE.sub(cite, text)


def _quoted(m):
    """An admonition as a Markdown quote, its title in bold."""
    title, body = m.group(2).strip(), m.group(3).rstrip()
    lines = [f"**{title}**", ""] + body.split("\n")
    return "\n".join(f"> {line}".rstrip() for line in lines) + "\n"


def _definitions(block):
    """A glossary block as plain Markdown: each term in bold, then its
    definition as a paragraph."""
    out = []
    for line in block.splitlines():
        if line and not line[0].isspace():
            out += ["", f"**{line.strip()}**"]
        else:
            out.append(line.strip())
    return "\n".join(out).strip() + "\n"


# What the book says of its collapsed worked answers, as a handout
# without them says it.
_COLLAPSED = [
    (
        r"has\s+a\s+worked\s+answer,\s+collapsed\s+below\s+it",
        "has a self-check list below it, and a cell for your answer",
    ),
    (
        r"its\s+answer\s+is\s+collapsed\s+below\s+it",
        "a self-check list and a cell for your answer follow it",
    ),
    (
        r"The\s+answers\s+in\s+words\s+are\s+collapsed\s+below\s+their"
        r"\s+questions",
        "Each question answered in words is followed by a self-check list "
        "and a cell for your answer",
    ),
]


def without_answers(text):
    """text with its sentences about collapsed worked answers rewritten
    for a handout that has a self-check list in their place."""
    for pattern, instead in _COLLAPSED:
        text = re.sub(pattern, instead, text)
    return text


def explained(text):
    """(number, question, worked answer) of the question in words that a
    Markdown cell asks, or None: such a question has its worked answer
    collapsed below it, and is the last numbered statement before it."""
    answer = ANSWER.search(text)
    if answer is None:
        return None
    numbered = list(NUMBERED.finditer(text[: answer.start()]))
    if not numbered:
        return None
    last = numbered[-1]
    question = text[last.start() : answer.start()].strip()
    worked = answer.group(0).split("\n", 2)[2].rsplit(":::", 1)[0]
    return int(last.group(1)), question, worked.strip()


# The verbs that open a sentence asking for something in words.
_ASKING = {
    "Explain",
    "Say",
    "Describe",
    "Compare",
    "Argue",
    "Name",
    "Predict",
    "Show",
    "Tell",
    "Give",
}


def rubric(question):
    """A self-check list for a question in words: each thing it asks, and
    what every good answer does."""
    body = " ".join(NUMBERED.sub("", question, count=1).split())
    sentences = re.split(r"(?<=[.?!])\s+(?=[A-Z(])", body)
    asked = []
    for i, q in enumerate(sentences):
        if q.endswith("?") or q.split(" ", 1)[0] in _ASKING:
            # "Why?" alone says nothing: the sentence before says what.
            if len(q.split()) < 4 and i > 0:
                q = f"{sentences[i - 1]} {q}"
            asked.append(q)
    items = [f"- [ ] It answers this: {q}" for q in asked]
    items += [
        "- [ ] Each claim comes with its reason: the mechanism of the "
        "chapter that makes it so, not only the name of one.",
        "- [ ] It uses the chapter's terms and symbols, each in the "
        "chapter's meaning.",
    ]
    return (
        "**Check your own answer** (not auto-graded: the grader lists "
        "your answer for your instructor to read):\n\n" + "\n".join(items)
    )


def with_points(text, points, in_words=None):
    """text with "(N points)" after each numbered statement that points
    gives ({number: points}); the question in words, number in_words,
    says it is read, not auto-graded."""

    def mark(m):
        n = int(m.group(1))
        if n == in_words:
            return m.group(0) + " *(answered in words: not auto-graded)*"
        if n not in points:
            return m.group(0)
        p = points[n]
        return m.group(0) + f" *({p} point{'s' if p != 1 else ''})*"

    return NUMBERED.sub(mark, text)


def answer_cell(chapter, number, question):
    """The Markdown cell where a student answers question `number` of
    chapter "07" in words, marked for the grader by its metadata."""
    import nbformat

    title = NUMBERED.match(question)
    title = (
        re.sub(
            r"^(?:Exercise )?\d+\.?\s*",
            "",
            title.group(0).strip("*").lstrip("# "),
        )
        if title
        else f"exercise {number}"
    )
    return nbformat.v4.new_markdown_cell(
        YOUR_ANSWER + "\n\n",
        metadata={
            EXPLAIN: {"exercise": f"{chapter}.{number}", "question": title}
        },
    )


def explain_answers(path):
    """(exercise key, question, answer text) of each question in words
    a student's notebook answers, from the cells a handout marks."""
    import json

    cells = json.loads(Path(path).read_text(encoding="utf-8"))["cells"]
    out = []
    for cell in cells:
        meta = (cell.get("metadata") or {}).get(EXPLAIN)
        if not isinstance(meta, dict):
            continue
        source = cell.get("source", "")
        text = "".join(source) if isinstance(source, list) else str(source)
        text = text.replace(YOUR_ANSWER, "", 1).strip()
        out.append(
            (
                str(meta.get("exercise", "")),
                str(meta.get("question", "")),
                text,
            )
        )
    return out


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

Each exercise shows its points beside its title. An exercise's cell
holds the start of a function and `raise NotImplementedError`: replace
that line with your code. The cell after it runs the check, which prints
one line:

- `✓ ...: matches the reference`: done;
- `… chapter N, exercise M is not written yet`: the notebook runs on;
- `✗ chapter N, exercise M: ...`: where your answer first differs from
  the reference, by how much, and, for a common mistake, which one it
  looks like; when your function raised an error, the call that raised
  it, with its inputs. The notebook runs on here too, so that Run All
  shows every check's verdict in one run, as the grader sees them.

A question answered in words is not graded by a check: below it, a list
says what a complete answer does (or, where your instructor hands out
the worked answers, one is collapsed there), and a cell marked
"Your answer" holds yours. The grader lists that cell's text for your
instructor to read.

The book's notation (`appendix_notation.md`), its glossary
(`appendix_glossary.md`) and its NumPy primer (`appendix_numpy.ipynb`)
are in this folder too: the chapters refer to them.

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
