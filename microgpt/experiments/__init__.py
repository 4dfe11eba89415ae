"""Experiments too long for a chapter, whose results the chapters read.

Each experiment is a function in a module of this package that takes a
plan (a dict of sizes, seeds and steps) and returns a JSON-ready dict.
``python -m microgpt.experiments NAME --out FILE`` runs one and writes
its result atomically; the results the book plots are stored in
``results/NAME.json`` beside this file, and ``stored(NAME)`` reads them.
A chapter re-runs the smallest point of a stored experiment to show that
the command reproduces it.
"""

import json
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"


def stored(name):
    """The stored result of experiment name, as written by its command."""
    with open(RESULTS / f"{name}.json", encoding="utf-8") as f:
        return json.load(f)
