"""Experiments too long for a chapter, whose results the chapters read.

Each experiment is a module of this package whose run(quick=False)
follows a plan (a dict of sizes, seeds and steps), the full one or a
quick one, and returns a JSON-ready dict.
``python -m microgpt.experiments NAME --out FILE`` runs one and writes
its result atomically; the results the book plots are stored in
``results/NAME.json`` beside this file, and ``stored(NAME)`` reads them.
A chapter re-runs the smallest point of a stored experiment to show that
the command reproduces it.
"""

import json
from importlib.resources import files

# The folder of stored results, inside the installed package.
RESULTS = files(__package__).joinpath("results")


def stored(name):
    """Return the stored result of experiment name, as its command wrote it."""
    return json.loads(
        RESULTS.joinpath(f"{name}.json").read_text(encoding="utf-8")
    )
