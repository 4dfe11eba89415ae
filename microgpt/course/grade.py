"""Grade a class: every student's notebooks, every exercise, one gradebook.

``python -m microgpt.course.grade SUBMISSIONS --out GRADES`` takes a
folder with one sub-folder per student, each holding that student's
chapter notebooks, or one student's folder itself (a repository of
one's own, say). It runs each notebook in a process of its own with a
time limit, several at once, and writes to the new folder GRADES:

- ``gradebook.csv``: a row per student, a column per exercise with the
  points earned, then the total and the maximum;
- ``feedback/STUDENT.html``: every exercise with its points and the
  check's own message, and a line for each notebook that was missing,
  unreadable, or did not finish in time.

An exercise scores its points when its check passes while the notebook
runs, and zero otherwise (not written, wrong, not run). The student's
code runs with the grader's rights: grade untrusted work in a sandbox.
"""

import argparse
import concurrent.futures
import csv
import html
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from .. import outputs
from .checks.exercise import RESULTS_VAR, all_exercises

LIMIT_S = 300       # per notebook


def run_notebook(path, limit_s):
    """Run one notebook in a new process: (status dict, results list)."""
    with tempfile.TemporaryDirectory(prefix="microgpt-grade-") as tmp:
        status, results = Path(tmp) / "status.json", Path(tmp) / "r.jsonl"
        env = dict(os.environ, **{RESULTS_VAR: str(results)})
        cmd = [sys.executable, "-m", "microgpt.course.runner", str(path),
               str(status), str(limit_s)]
        try:
            # The runner kills its kernel at the limit; this is a backstop.
            subprocess.run(cmd, env=env, timeout=limit_s + 60,
                           stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)
        except subprocess.TimeoutExpired:
            pass
        try:
            state = json.loads(status.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            state = {"status": "timed out", "seconds": limit_s}
        lines = (results.read_text(encoding="utf-8").splitlines()
                 if results.exists() else [])
    return state, [json.loads(line) for line in lines if line.strip()]


def students_in(folder):
    """The students: the sub-folders of folder, by name; or, when folder
    holds notebooks itself, its one student."""
    folder = Path(folder)
    if any(folder.glob("*.ipynb")):
        return [folder.resolve()]
    return sorted((p for p in folder.iterdir()
                   if p.is_dir() and not p.name.startswith(".")),
                  key=lambda p: p.name)


def grade(submissions, limit_s=LIMIT_S, workers=None):
    """Grades of every student: name -> {"scores", "notes"}."""
    exercises = all_exercises()
    jobs = {}
    students = students_in(submissions)
    with concurrent.futures.ThreadPoolExecutor(
            workers or os.cpu_count() or 1) as pool:
        for student in students:
            for nb in sorted(student.glob("*.ipynb")):
                jobs[student.name, nb.name] = pool.submit(
                    run_notebook, nb, limit_s)
    grades = {}
    for student in students:
        got, notes = {}, []
        runs = {nb: f.result() for (s, nb), f in jobs.items()
                if s == student.name}
        if not runs:
            notes.append("no notebooks (.ipynb) in this folder")
        for nb, (state, results) in sorted(runs.items()):
            if state["status"] == "timed out":
                notes.append(f"{nb} did not finish within "
                             f"{state['seconds']:g} s; the exercises it "
                             "had not reached score zero")
            elif state["status"] != "finished":
                notes.append(f"{nb} could not be run ({state['status']}:"
                             f" {state.get('message', '')})")
            for r in results:            # a check run twice: the last
                got[r.get("exercise")] = r
        scores = []
        for ex in exercises:
            r = got.get(ex.key)
            if r is None:
                r = {"status": "not run", "message": "the check of "
                     f"{ex} did not run in any notebook"}
            points = ex.points if r["status"] == "passed" else 0
            scores.append((ex, points, r["status"], r.get("message", "")))
        grades[student.name] = {"scores": scores, "notes": notes}
    return exercises, grades


def write_gradebook(path, exercises, grades):
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(["student"] + [e.key for e in exercises]
                     + ["total", "out of"])
        top = sum(e.points for e in exercises)
        for name, g in grades.items():
            points = [p for _, p, _, _ in g["scores"]]
            out.writerow([name] + points + [sum(points), top])


def feedback_page(name, g):
    """One student's feedback as a small HTML page."""
    total = sum(p for _, p, _, _ in g["scores"])
    top = sum(e.points for e, _, _, _ in g["scores"])
    rows = "\n".join(
        f"<tr><td>{e}</td><td>{p} / {e.points}</td><td>{html.escape(s)}"
        f"</td><td>{html.escape(m)}</td></tr>"
        for e, p, s, m in g["scores"])
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in g["notes"])
    return (f"<!doctype html>\n<meta charset='utf-8'>\n<title>Feedback:"
            f" {html.escape(name)}</title>\n<h1>{html.escape(name)}: "
            f"{total} / {top} points</h1>\n"
            + (f"<ul>{notes}</ul>\n" if notes else "")
            + "<table>\n<tr><th>exercise</th><th>points</th><th>result"
            f"</th><th>the check said</th></tr>\n{rows}\n</table>\n")


def write_grades(out, exercises, grades):
    """Write the gradebook and feedback into the new folder out."""
    def fill(folder):
        (folder / "feedback").mkdir()
        write_gradebook(folder / "gradebook.csv", exercises, grades)
        for name, g in grades.items():
            (folder / "feedback" / f"{name}.html").write_text(
                feedback_page(name, g), encoding="utf-8")

    outputs.atomic_folder(out, fill)

def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m microgpt.course.grade",
                                description=__doc__.splitlines()[0])
    p.add_argument("submissions", help="a folder with one folder per "
                   "student, each with that student's notebooks")
    p.add_argument("--out", required=True,
                   help="the folder to create for the grades")
    p.add_argument("--limit", type=float, default=LIMIT_S, metavar="S",
                   help=f"seconds per notebook (default {LIMIT_S})")
    p.add_argument("--workers", type=int, default=None, metavar="N",
                   help="notebooks run at once (default: the cores)")
    args = p.parse_args(argv)
    sub, out = Path(args.submissions), Path(args.out)
    if not sub.is_dir():
        p.error(f"{sub} is not a folder of submissions")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        p.error(f"{out} exists and is not an empty folder; choose a new "
                "one")
    if not out.parent.is_dir():
        p.error(f"{out}: folder {out.parent} does not exist")
    if args.limit <= 0 or (args.workers is not None and args.workers < 1):
        p.error("--limit and --workers must be positive")
    try:
        exercises, grades = grade(sub, args.limit, args.workers)
        write_grades(out, exercises, grades)
    except KeyboardInterrupt:
        print("microgpt.course.grade: interrupted; nothing was written",
              file=sys.stderr)
        return 130
    except OSError as e:
        print(f"microgpt.course.grade: error: {e}", file=sys.stderr)
        return 1
    top = sum(e.points for e in exercises)
    for name, g in grades.items():
        total = sum(p for _, p, _, _ in g["scores"])
        print(f"{name}: {total} / {top}")
    print(f"wrote {out / 'gradebook.csv'} and {len(grades)} feedback "
          "pages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
