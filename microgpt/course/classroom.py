"""A handout as a GitHub Classroom template: its workflow, and the points.

``classroom.yml``, next to this module, is the GitHub Actions workflow
that ``python -m microgpt.course.assignments`` writes into every handout
as ``.github/workflows/grade.yml``: on each push it grades the repository's
notebooks with :mod:`microgpt.course.grade` and then runs
``python -m microgpt.course.classroom GRADES``, which prints the
gradebook in GRADES as Markdown, the total and a row per exercise, for
the run's summary page.
"""

import argparse
import csv
import sys
from importlib.resources import files
from pathlib import Path

from .checks.exercise import all_exercises

WORKFLOW = Path(".github", "workflows", "grade.yml")


def workflow():
    """The text of the workflow a handout carries."""
    return (
        files(__package__)
        .joinpath("classroom.yml")
        .read_text(encoding="utf-8")
    )


def points_table(gradebook):
    """Each student's total, then a table of points per exercise."""
    exercises = all_exercises()
    with open(gradebook, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    out = []
    for row in rows:
        out += [
            f"### {row['student']}: {row['total']} / {row['out of']} points",
            "",
            "| exercise | points | out of |",
            "| --- | ---: | ---: |",
        ]
        out += [f"| {e} | {row[e.key]} | {e.points} |" for e in exercises]
        out += [
            "",
            "Each exercise's message, and why a notebook could "
            "not run if one could not: the feedback page in the "
            "run's artifact `grades`.",
            "",
        ]
    return "\n".join(out)


def main(argv=None):
    """Print the points of the gradebook in GRADES as Markdown."""
    p = argparse.ArgumentParser(
        prog="python -m microgpt.course.classroom", description=main.__doc__
    )
    p.add_argument(
        "grades", help="the folder python -m microgpt.course.grade wrote"
    )
    args = p.parse_args(argv)
    try:
        print(points_table(Path(args.grades) / "gradebook.csv"))
    except (OSError, KeyError, csv.Error) as e:
        p.error(f"cannot read the gradebook in {args.grades}: {e}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
