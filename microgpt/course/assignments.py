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

``--chapters 2,3,5`` hands out only those chapters (the appendices go
along); each exercise shows its points; a question answered in words
gets a self-check list and a cell for the student's answer, or, with
``--answers``, its worked answer, collapsed; the notation and glossary
pages are copied beside the chapters. The book is found beside the
package, so the command runs from any folder (``--book`` names another),
and a handout written inside a clone of the repository is listed in that
clone's ``.git/info/exclude``, so that git does not show it as untracked.

Grading: ``python -m microgpt.course.grade``.
"""

import argparse
import copy
import re
import shutil
import sys
from pathlib import Path

from ..outputs import atomic_folder, naming
from ..repository import in_clone

BEGIN, END = "### BEGIN SOLUTION", "### END SOLUTION"
# The book's pages that a handout carries beside the chapters, since the
# chapters refer to them.
PAGES = ("appendix_notation.md", "appendix_glossary.md")
TODO = ("# YOUR CODE HERE", "raise NotImplementedError")


def strip_source(source, where):
    """A cell's source with each solution block replaced by a raise."""
    out, indent = [], None  # indent: the open block's, else None
    for n, line in enumerate(source.split("\n"), 1):
        mark = line.strip()
        if mark == BEGIN:
            if indent is not None:
                raise ValueError(
                    f"{where}, line {n}: {BEGIN} inside another solution"
                )
            indent = line[: len(line) - len(line.lstrip())]
            out += [indent + todo for todo in TODO]
        elif mark == END:
            if indent is None:
                raise ValueError(f"{where}, line {n}: {END} without {BEGIN}")
            indent = None
        elif indent is None:
            out.append(line)
    if indent is not None:
        raise ValueError(f"{where}: {BEGIN} is never closed")
    return "\n".join(out)


def student_copy(nb, name, plain=None, points=None, answers=False):
    """A copy of notebook nb with its solutions out, and how many.

    plain, if given, rewrites each Markdown cell's text for the handout;
    then a question answered in words gets, below it, a self-check list
    (or its worked answer, collapsed, if answers) and a cell for the
    student's answer, which the grader lists for the instructor. points,
    if given ({exercise number: points}), is shown beside each exercise.
    """
    from . import handout

    nb, count, solved = copy.deepcopy(nb), 0, set()
    answer_cells = []  # (after cell i, the new cell)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "markdown" and plain is not None:
            read = handout.explained(cell.source)
            cell.source = plain(cell.source)
            if points is not None:
                cell.source = handout.with_points(
                    cell.source, points, read[0] if read else None
                )
            if not answers and name[:2].isdigit():
                cell.source = handout.without_answers(cell.source)
            if read is not None:
                number, question, worked = read
                # A chapter's answer is the student's to hand in; an
                # appendix is not graded, so it keeps its worked answer.
                graded = name[:2].isdigit()
                cell.source += "\n\n" + (
                    handout.rubric(question)
                    if graded and not answers
                    else "<details><summary>Worked answer</summary>\n\n"
                    + plain(worked)
                    + "\n\n</details>"
                )
                if graded:
                    answer_cells.append(
                        (i, handout.answer_cell(name[:2], number, question))
                    )
        if cell.cell_type != "code":
            continue
        if BEGIN in cell.source:
            solved |= set(re.findall(r"^def (\w+)", cell.source, re.M))
            cell.source = strip_source(cell.source, f"{name}, cell {i}")
            count += cell.source.count(TODO[1])
            tags = [
                t for t in cell.metadata.get("tags", []) if t != "hide-input"
            ]
            if tags:
                cell.metadata["tags"] = tags
            else:
                cell.metadata.pop("tags", None)
        elif not solved & set(re.findall(r"\w+", cell.source)):
            continue  # the chapter's own cell: its outputs stay
        # A solution, or a cell that uses one (its check): no outputs, or
        # a stored "matches the reference" would give the answer away.
        cell.outputs, cell.execution_count = [], None
    for i, new in reversed(answer_cells):
        nb.cells.insert(i + 1, new)
    return nb, count


def write_copies(book, out, chapters=None, answers=False):
    """Write student copies of book/*.ipynb to the new folder out.

    chapters: the numbers of the chapters to hand out (default: all); the
    appendices that are notebooks (the NumPy primer) and the pages the
    chapters refer to (PAGES) go along. answers: the questions answered
    in words show their worked answers instead of a self-check list.
    """
    # nbformat comes with the book's tools; the model never needs it.
    import nbformat

    from . import classroom, handout
    from .checks.exercise import all_exercises

    book, out = Path(book), Path(out)
    notebooks = sorted(book.glob("*.ipynb"))
    if not notebooks:
        raise ValueError(f"{book}: no notebooks (.ipynb) in this folder")
    numbered = {int(p.name[:2]) for p in notebooks if p.name[:2].isdigit()}
    missing = sorted(set(chapters or ()) - numbered)
    if missing:
        raise ValueError(
            f"{book} has no chapter {', '.join(map(str, missing))}"
        )
    chapters = [
        p
        for p in notebooks
        if chapters is None
        or not p.name[:2].isdigit()
        or int(p.name[:2]) in chapters
    ]
    pages = [book / page for page in PAGES if (book / page).is_file()]
    points = {}
    for ex in all_exercises():
        points.setdefault(ex.chapter, {})[ex.number] = ex.points
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise ValueError(
            f"{out} exists and is not an empty folder; choose a new one"
        )
    if not out.parent.is_dir():
        raise ValueError(f"{out}: folder {out.parent} does not exist")
    here = [p.name for p in chapters + pages]
    refs = handout.labels(book, here)
    bib = book / "references.bib"
    cites = handout.citations(bib) if bib.is_file() else {}

    def plain(text):
        return handout.plain(text, refs, cites, book)

    counts = {}

    def fill(folder):
        for path in chapters:
            nb = nbformat.read(path, as_version=4)
            number = int(path.name[:2]) if path.name[:2].isdigit() else 0
            try:
                nb, counts[path.name] = student_copy(
                    nb, path.name, plain, points.get(number, {}), answers
                )
            except ValueError as e:
                if str(e).startswith(path.name):
                    raise
                raise ValueError(f"{path.name}: {e}") from e
            with naming(out):
                nbformat.write(nb, folder / path.name)
        with naming(out):
            (folder / "README.md").write_text(
                handout.readme(), encoding="utf-8"
            )
            for page in pages:
                (folder / page.name).write_text(
                    plain(page.read_text(encoding="utf-8")), encoding="utf-8"
                )
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
    p = argparse.ArgumentParser(
        prog="python -m microgpt.course.assignments",
        description=__doc__.splitlines()[0],
    )
    p.add_argument("out", help="the folder to create for the copies")
    p.add_argument(
        "--book",
        help="the folder of the chapters (default: the book beside this "
        "package, else ./book)",
    )
    p.add_argument(
        "--chapters",
        metavar="LIST",
        help="the chapters to hand out, such as 2,3,5 or 2-5 (default: all)",
    )
    p.add_argument(
        "--answers",
        action="store_true",
        help="show the worked answers of the questions answered in words "
        "(default: a self-check list instead)",
    )
    args = p.parse_args(argv)
    try:
        chapters = chapter_list(args.chapters) if args.chapters else None
        book = Path(args.book) if args.book else find_book()
        counts = write_copies(book, args.out, chapters, args.answers)
        ignored = keep_out_of_git(Path(args.out))
    except (OSError, ValueError) as e:
        p.error(str(e))
    for name, n in counts.items():
        print(f"{name}: {n} {'answer' if n == 1 else 'answers'} taken out")
    print(f"wrote {len(counts)} notebooks to {args.out}")
    if ignored:
        print(
            f"{args.out} lies inside a git repository: {ignored} now "
            "lists it, so that git does not show it as untracked"
        )
    return 0


def chapter_list(text):
    """The chapter numbers a list such as "2,3,5" or "2-5" names."""
    out = set()
    for part in text.split(","):
        first, dash, last = part.strip().partition("-")
        if not first.isdigit() or (dash and not last.isdigit()):
            raise ValueError(
                f"--chapters {text}: give chapter numbers, "
                "such as 2,3,5 or 2-5"
            )
        out.update(range(int(first), int(last or first) + 1))
    return sorted(out)


def find_book():
    """The book's folder: beside the package (a clone of the repository,
    from anywhere), else ./book."""
    for book in (in_clone("book"), Path("book")):
        if book is not None and any(book.glob("*.ipynb")):
            return book
    raise ValueError(
        "no book found beside the package or in ./book; "
        "give its folder with --book"
    )


def keep_out_of_git(out):
    """If out lies inside a git repository's working tree, list it in that
    repository's .git/info/exclude (which is never committed), so that a
    handout made in a clone does not show as untracked; the file it
    changed, else None."""
    out = out.resolve()
    for root in out.parents:
        git = root / ".git"
        if git.exists() and not git.is_dir():
            return None  # a worktree or submodule: left as it is
        if git.is_dir():
            exclude = git / "info" / "exclude"
            entry = "/" + out.relative_to(root).as_posix() + "/"
            old = (
                exclude.read_text(encoding="utf-8")
                if exclude.is_file()
                else ""
            )
            if entry in old.splitlines():
                return None
            exclude.parent.mkdir(exist_ok=True)
            with open(exclude, "a", encoding="utf-8") as f:
                f.write(
                    ("" if old.endswith("\n") or not old else "\n")
                    + entry
                    + "\n"
                )
            return exclude
    return None


if __name__ == "__main__":
    sys.exit(main())
