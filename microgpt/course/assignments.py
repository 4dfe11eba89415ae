"""Student copies of the chapters: every exercise with its solution taken out.

In the book, a solution sits in a code cell between two marker lines (the
ones nbgrader uses too)::

    def letter_counts(docs):
        ### BEGIN SOLUTION
        ...
        ### END SOLUTION

``python -m microgpt.course.assignments OUT`` writes a copy of every chapter to
the new folder OUT with each such block replaced by ``raise
NotImplementedError`` at the block's indentation and the cell shown (the
book collapses it). The stored outputs of those cells, and of the cells
that use them (the checks), are cleared; the prose and every other cell
stay as they are. A student runs the check after an exercise to see
whether the answer is right. ``data/`` is copied along, if the book has
one. The Markdown is made plain
for Jupyter (cross-references, citations and the package code the book
prints are written out; see :mod:`microgpt.course.handout`), and a
README tells students how to set up and how the checks report. A GitHub
Actions workflow, ``.github/workflows/grade.yml``, grades the notebooks
on every push where the handout is a repository (GitHub Classroom's
template, say; see :mod:`microgpt.course.classroom`).

Grading: ``python -m microgpt.course.grade``.
"""

import argparse
import copy
import re
import shutil
import sys
from pathlib import Path

from ..outputs import atomic_folder, naming

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
TODO = ("# YOUR CODE HERE", "raise NotImplementedError")


def strip_source(source, where):
    """A cell's source with each solution block replaced by a raise."""
    out, indent = [], None  # indent: the open block's, else None
    for n, line in enumerate(source.split("\n"), 1):
        mark = line.strip()
        if mark == BEGIN:
            if indent is not None:
                raise ValueError(f"{where}, line {n}: {BEGIN} inside "
                                 "another solution")
            indent = line[:len(line) - len(line.lstrip())]
            out += [indent + todo for todo in TODO]
        elif mark == END:
            if indent is None:
                raise ValueError(f"{where}, line {n}: {END} without "
                                 f"{BEGIN}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"{where}: {BEGIN} is never closed")
    return "\n".join(out)


def student_copy(nb, name, plain=None):
    """A copy of notebook nb with its solutions out, and how many.

    plain, if given, rewrites each Markdown cell's text for the handout.
    """
    nb, count, solved = copy.deepcopy(nb), 0, set()
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and plain is not None:
            cell.source = plain(cell.source)
        if cell.cell_type != "code":
            continue
        if BEGIN in cell.source:
            solved |= set(re.findall(r"^def (\w+)", cell.source, re.M))
            cell.source = strip_source(cell.source, f"{name}, cell {i}")
            count += cell.source.count(TODO[1])
            tags = [t for t in cell.metadata.get("tags", [])
                    if t != "hide-input"]
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
        elif not solved & set(re.findall(r"\w+", cell.source)):
            continue  # the chapter's own cell: its outputs stay
        # A solution, or a cell that uses one (its check): no outputs, or
        # a stored "matches the reference" would give the answer away.
        cell.outputs, cell.execution_count = [], None
    return nb, count


def write_copies(book, out):
    """Write student copies of book/*.ipynb to the new folder out."""
    # nbformat comes with the book's tools; the model never needs it.
    import nbformat

    from . import classroom, handout
    book, out = Path(book), Path(out)
    chapters = sorted(book.glob("*.ipynb"))
    if not chapters:
        raise ValueError(f"{book}: no notebooks (.ipynb) in this folder")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(f"{out} exists and is not an empty folder; "
                         "choose a new one")
    if not out.parent.is_dir():
        raise ValueError(f"{out}: folder {out.parent} does not exist")
    refs = handout.labels(book)
    bib = book / "references.bib"
    cites = handout.citations(bib) if bib.is_file() else {}

    def plain(text):
        return handout.plain(text, refs, cites, book)

    counts = {}

    def fill(folder):
        for path in chapters:
            nb = nbformat.read(path, as_version=4)
            nb, counts[path.name] = student_copy(nb, path.name, plain)
            with naming(out):
                nbformat.write(nb, folder / path.name)
        with naming(out):
            (folder / "README.md").write_text(handout.readme(),
                                              encoding="utf-8")
            if (book / "data").is_dir():
                shutil.copytree(book / "data", folder / "data")
            grade_yml = folder / classroom.WORKFLOW
            grade_yml.parent.mkdir(parents=True)
            grade_yml.write_text(classroom.workflow(), encoding="utf-8")

    # Built beside out and renamed, so a failure (a bad notebook, say)
    # leaves no half-written copy; errors name out, never the temporary
    # folder.
    atomic_folder(out, fill)
    return counts


def main(argv=None):
    """Write the student copies; print what was taken out."""
    p = argparse.ArgumentParser(prog="python -m microgpt.course.assignments",
                                description=__doc__.splitlines()[0])
    p.add_argument("out", help="the folder to create for the copies")
    p.add_argument("--book", default="book",
                   help="the folder of the chapters (default: book)")
    args = p.parse_args(argv)
    try:
        counts = write_copies(args.book, args.out)
    except (OSError, ValueError) as e:
        p.error(str(e))
    for name, n in counts.items():
        print(f"{name}: {n} {'answer' if n == 1 else 'answers'} taken out")
    print(f"wrote {len(counts)} notebooks to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
