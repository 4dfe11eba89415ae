"""nbgrader's cell metadata on the book's notebooks, from the exercise list.

nbgrader grades a notebook by its cells' metadata: a solution cell holds
the answer between ``### BEGIN SOLUTION`` and ``### END SOLUTION``; an
autograded cell, locked, scores its points unless it raises. In the book,
each exercise's solution cell is one, and the cell that calls its check
is the other, worth the points its ``@exercise`` declares.

``python -m microgpt.course.nbgrader book/`` writes that metadata into
the chapters; ``--check`` only reports the notebooks that lack it.
"""

import argparse
import re
import sys
from pathlib import Path

from .checks.exercise import all_exercises

BEGIN = "### BEGIN SOLUTION"


def cell_ids(ex):
    """nbgrader's ids of an exercise's solution and check cells."""
    stem = f"ex{ex.chapter:02d}-{ex.number}"
    return f"{stem}-answer", f"{stem}-check"


def wanted(nb, chapter, exercises):
    """(cell index, nbgrader metadata) for every graded cell of nb."""
    mine = [e for e in exercises if e.chapter == chapter]
    answers = [
        i
        for i, c in enumerate(nb.cells)
        if c.cell_type == "code" and BEGIN in c.source
    ]
    if len(answers) != len(mine):
        raise ValueError(
            f"chapter {chapter}: {len(answers)} solution "
            f"cells for {len(mine)} exercises"
        )
    out = []
    for ex, answer in zip(mine, answers):
        calls = [
            i
            for i, c in enumerate(nb.cells)
            if i > answer
            and c.cell_type == "code"
            and re.search(rf"\b{ex.check}\(", c.source)
        ]
        if not calls:
            raise ValueError(
                f"{ex}: no cell after its solution calls {ex.check}"
            )
        answer_id, check_id = cell_ids(ex)
        out.append(
            (
                answer,
                {
                    "grade": False,
                    "grade_id": answer_id,
                    "locked": False,
                    "schema_version": 3,
                    "solution": True,
                    "task": False,
                },
            )
        )
        out.append(
            (
                calls[0],
                {
                    "grade": True,
                    "grade_id": check_id,
                    "locked": True,
                    "points": ex.points,
                    "schema_version": 3,
                    "solution": False,
                    "task": False,
                },
            )
        )
    return out


def chapter_of(path):
    """The chapter number of a notebook named NN_title.ipynb."""
    head = Path(path).name.split("_", 1)[0]
    return int(head) if head.isdigit() else None


def stamp(path, exercises, write=True):
    """Set the metadata in the notebook at path; True if it changed."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    changed = False
    for i, meta in wanted(nb, chapter_of(path), exercises):
        if nb.cells[i].metadata.get("nbgrader") != meta:
            nb.cells[i].metadata["nbgrader"] = meta
            changed = True
    if changed and write:
        nbformat.write(nb, path)
    return changed


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m microgpt.course.nbgrader",
        description=__doc__.splitlines()[0],
    )
    p.add_argument(
        "book",
        nargs="?",
        default="book",
        help="the folder of the chapters (default: book)",
    )
    p.add_argument(
        "--check",
        action="store_true",
        help="change nothing; exit 1 if metadata is missing",
    )
    args = p.parse_args(argv)
    exercises = all_exercises()
    chapters = sorted(
        n for n in Path(args.book).glob("*.ipynb") if chapter_of(n)
    )
    if not chapters:
        p.error(f"{args.book}: no chapter notebooks (NN_*.ipynb)")
    stale = [n for n in chapters if stamp(n, exercises, write=not args.check)]
    for n in stale:
        print(f"{n}: {'lacks' if args.check else 'updated'} nbgrader metadata")
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
