"""Grade a class: every student's notebooks, every exercise, one gradebook.

``python -m microgpt.course.grade SUBMISSIONS --out GRADES`` takes a
folder with one sub-folder per student, each holding that student's
chapter notebooks, or one student's folder itself (a repository of
one's own, say). It runs each notebook sealed off from everything else
(microgpt.course.sandbox: bubblewrap), several at once, and writes to
GRADES, a folder it creates before any notebook runs:

- ``gradebook.csv``: a row per student, a column per exercise with the
  points earned, then the total and the maximum;
- ``feedback/STUDENT.html``: every exercise with its points and the
  check's own message (✓ or ✗), a line for each notebook that was
  missing, unreadable, ignored, or did not finish in time, and each
  question answered in words, not auto-graded, with the student's text
  for the instructor to read.

``--chapters 2,3,5`` (or ``--handout FOLDER``, the handout the class was
given) grades the chapters assigned, and only those. An exercise scores
its points when its check passes while the notebook runs, and zero
otherwise (not written, wrong, not run, or not handed in). A check's result
counts only when it comes from a cell that calls that check, through
the runner's pipe; where a cell reports an exercise more often than it
calls the check, or reports it both passed and failed, the exercise
scores zero and says so. Without bubblewrap the grader refuses to run,
unless ``--trusted`` says the work is trusted.
"""

import argparse
import ast
import concurrent.futures
import contextlib
import csv
import html
import importlib
import inspect
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from .. import outputs
from . import assignments, checks, handout, sandbox
from .checks import questions
from .checks.exercise import CHAPTERS, all_exercises

LIMIT_S = 300  # per notebook
MEMORY = 2 << 30  # bytes per notebook
PROCESSES = 256  # per notebook
# The handout's names: two digits, an underscore, lower-case words.
HANDOUT_NAME = re.compile(r"^(\d\d)_[a-z][a-z0-9_]*\.ipynb$")


# Code that touches the check machinery: flagged for the instructor to
# judge, since code in the kernel can do what the sandbox cannot stop.
TAMPERING = [
    (r"__code__|__globals__|__closure__", "reaches into a function's code"),
    (r"\bsys\.modules\b", "uses sys.modules"),
    (
        r"\bimportlib\.(?:reload|import_module)\b|__import__\s*\(",
        "imports a module by name",
    ),
    (
        r"getsource|\.__file__\b|__loader__|\bget_data\s*\(",
        "reads a module's source",
    ),
    (
        r"_reference|\b_record\b|_TurnedOff|_guarded|UsedThePackage"
        r"|\bEXERCISES\b",
        "uses the checks' internals",
    ),
    (
        r"MICROGPT_RESULTS|/proc/|\bos\.(?:write|fdopen|dup2?)\s*\(",
        "looks for the grader's results",
    ),
    (
        r"\b\w*checks?\.\w+\s*=(?!=)|\bsetattr\s*\(",
        "replaces an attribute of a module or object",
    ),
    (r"(?<![\w.])(?:exec|eval|compile)\s*\(", "runs code from a string"),
    (
        r"[\"']status[\"']\s*:|[\"']exercise[\"']\s*:",
        "writes result-like lines",
    ),
]
NOTEBOOK_BYTES = 50 << 20  # larger notebooks are not scanned for flags


def flags(path):
    """What in a notebook's code touches the checks: a list of lines."""
    try:
        if path.stat().st_size > NOTEBOOK_BYTES:
            return [f"{path.name}: too large to scan"]
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        code = [
            "".join(c["source"])
            if isinstance(c["source"], list)
            else str(c["source"])
            for c in cells
            if c.get("cell_type") == "code"
        ]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    found = []
    for pattern, what in TAMPERING:
        for i, source in enumerate(code):
            if re.search(pattern, source):
                found.append(f"{path.name}: code cell {i + 1} {what}")
                break
    return found


def private_copy(folder, into):
    """Copy folder's regular files (and sub-folders) into the new folder
    into; symbolic links, special files, hidden folders (.git,
    .ipynb_checkpoints) and files larger than a notebook may write are
    left out."""
    into.mkdir()
    for entry in os.scandir(folder):
        if entry.is_symlink():
            continue
        if entry.is_dir(follow_symlinks=False):
            if entry.name.startswith("."):
                continue
            private_copy(Path(entry.path), into / entry.name)
        elif (
            entry.is_file(follow_symlinks=False)
            and entry.stat(follow_symlinks=False).st_size <= sandbox.FILE_BYTES
        ):
            shutil.copyfile(
                entry.path, into / entry.name, follow_symlinks=False
            )


def run_notebook(path, limit_s, trusted=False, memory=MEMORY):
    """Run one notebook in its sandbox: (status dict, cell reports)."""
    limits = sandbox.Limits(memory, PROCESSES)
    with tempfile.TemporaryDirectory(prefix="microgpt-grade-") as tmp:
        work = Path(tmp) / "work"
        private_copy(path.parent, work)
        if trusted:
            argv = [
                sys.executable,
                "-m",
                "microgpt.course.runner",
                str(work / path.name),
                str(limit_s),
            ]
            env = {
                k: v
                for k, v in os.environ.items()
                if not k.startswith("MICROGPT_RESULTS")
            }
            env["JUPYTER_RUNTIME_DIR"] = str(Path(tmp) / "jupyter")
            env["TMPDIR"] = tmp  # its temporary files go with it
            cwd = work
        else:
            argv = sandbox.command(
                work,
                [
                    sys.executable,
                    "-m",
                    "microgpt.course.runner",
                    f"{sandbox.INSIDE}/{path.name}",
                    str(limit_s),
                ],
            )
            env, cwd = None, None
        try:
            proc = subprocess.Popen(
                argv,
                env=env,
                cwd=cwd,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
                start_new_session=True,
                preexec_fn=limits.enter,
            )
            try:
                # The runner kills its kernel at the limit; this is a
                # backstop.
                out, _ = proc.communicate(timeout=limit_s + 60)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, 9)
                out, _ = proc.communicate()
        finally:
            limits.close()
    state, cells = None, []
    for line in out.decode("utf-8", "replace").splitlines():
        try:
            record = json.loads(line)
        except ValueError:
            continue
        if "status" in record:
            state = record
        elif "results" in record:
            cells.append(record)
    if state is None:
        state = {
            "status": "failed",
            "message": "it stopped before the "
            "end (out of memory, or too many processes)",
        }
    return state, cells


def calls(source, name):
    """How often a cell's code calls the function `name` (calls in its
    comments and strings do not count)."""
    try:
        from IPython.core.inputtransformer2 import TransformerManager

        tree = ast.parse(TransformerManager().transform_cell(source))
    except (ImportError, SyntaxError, ValueError):
        return len(re.findall(rf"\b{re.escape(name)}\s*\(", source))
    found = 0
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        called = (
            getattr(node.func, "id", None),
            getattr(node.func, "attr", None),
        )
        if name in called:
            found += 1
        elif {"run_line_magic", "run_cell_magic"} & set(called):
            # A magic (%time, %%capture) runs the code it is given.
            found += sum(
                calls(a.value, name)
                for a in node.args[1:]
                if isinstance(a, ast.Constant) and isinstance(a.value, str)
            )
    return found


# The checks of the questions, by exercise key (None for an exercise
# whose answer takes inputs), and the verdicts of the answers replayed.
_QUESTIONS = {}
_REPLAYED = {}


def question_check(ex):
    """ex's check if its answer takes no inputs (a predicted number or a
    letter) and the check none but the answer, else None. It is found by
    calling the check here with an answer that notes how it is called
    and says it is not written."""
    if ex.key not in _QUESTIONS:
        name = {n: c for c, n in CHAPTERS.items()}[ex.chapter]
        module = importlib.import_module(f"{checks.__name__}.{name}")
        check, calls_seen = getattr(module, ex.check), []

        def probe(*args, **kwargs):
            calls_seen.append(bool(args or kwargs))
            raise NotImplementedError

        # A check that takes inputs besides the answer (a model the
        # notebook trained) cannot be run again without them.
        alone = len(inspect.signature(check.__wrapped__).parameters) == 1
        source = inspect.getsource(check.__wrapped__)
        if alone and re.search(r"\b(?:number|choice)\(", source):
            with contextlib.redirect_stdout(io.StringIO()):
                check(probe)
        _QUESTIONS[ex.key] = check if calls_seen == [False] else None
    return _QUESTIONS[ex.key]


def _plain_data(value, depth=0):
    """True for JSON's numbers and strings, and short lists of them."""
    if isinstance(value, (bool, str, int, float)):
        return True
    return (
        isinstance(value, list)
        and depth < 2
        and len(value) <= 64
        and all(_plain_data(v, depth + 1) for v in value)
    )


def _replayed(ex, result):
    """A passed question's verdict from its check run here, outside the
    sandbox, on the values the answer returned there; any other result
    as it came. What a forged result claims thus counts for nothing."""
    check = question_check(ex)
    if check is None:
        return result
    values = result.get("returned")
    if (
        not isinstance(values, list)
        or not values
        or not all(map(_plain_data, values))
    ):
        return {
            "status": "failed",
            "message": f"{ex}: the check recorded no answer",
        }
    memo = (ex.key, json.dumps(values))
    if memo not in _REPLAYED:
        given = iter(values)

        def answer(*args, **kwargs):
            if args or kwargs:
                raise TypeError("the answer takes no inputs")
            return next(given)

        said = io.StringIO()
        try:
            with contextlib.redirect_stdout(said):
                check(answer)
            lines = [x for x in said.getvalue().splitlines() if x]
            verdict = {"status": "passed", "message": lines[-1][:2000]}
        except Exception as e:  # the check's verdict, or its stumble
            verdict = {"status": "failed", "message": str(e)[:2000]}
        _REPLAYED[memo] = verdict
    return _REPLAYED[memo]


def _judged(ex, result, answer_key):
    """A passed result judged again here, outside the sandbox: a choice
    question's letter against the answer key, a predicted number by its
    check run again (_replayed); a failure stands as it came."""
    asked = {
        q: e
        for q, e in (answer_key or {}).items()
        if e.get("exercise") == ex.key
    }
    chosen = [
        c
        for c in result.get("choices") or []
        if isinstance(c, list) and len(c) == 3
    ]
    if result["status"] != "passed":
        return result
    if not (asked or chosen):
        return _replayed(ex, result)
    if not asked:
        return {
            "status": "not graded",
            "message": f"{ex}: a choice "
            "question, and the grader was given no answer key",
        }
    for question, entry in asked.items():
        letters = [c for c in chosen if c[0] == question]
        if not letters:
            return {
                "status": "failed",
                "message": f"{ex}: no letter was recorded by the check",
            }
        verdict = questions.judge(
            entry, str(letters[-1][1]), str(letters[-1][2])
        )
        if verdict is not None:
            return {"status": "failed", "message": f"{ex}: {verdict}"}
    return {"status": "passed", "message": f"{ex}: the right letter"}


def verdicts(cells, exercises, answer_key=None):
    """The result of each exercise (key -> dict) from the cells' reports.

    A report counts only from a cell whose source calls the exercise's
    check; a cell reporting an exercise more often than it calls the
    check, or both passed and not, gives zero with a message. A later
    cell's verdict replaces an earlier one's (a check run twice). A
    choice question's letter is judged here with the answer key
    `answer_key` ({question: entry}, see
    microgpt.course.checks.questions).
    """
    by_key = {e.key: e for e in exercises}
    got = {}
    for cell in cells:
        source, seen = str(cell.get("source", "")), {}
        for r in cell.get("results", []):
            ex = by_key.get(r.get("exercise"))
            if ex is None or r.get("check") != ex.check:
                continue
            seen.setdefault(ex.key, []).append(r)
        for key, results in seen.items():
            ex = by_key[key]
            n_calls = calls(source, ex.check)
            if n_calls == 0:
                continue
            statuses = {str(r.get("status")) for r in results}
            if len(results) > n_calls or (
                "passed" in statuses and len(statuses) > 1
            ):
                got[key] = {
                    "status": "failed",
                    "message": f"{ex}: the check's result was reported more "
                    "often than the check ran; results written "
                    "by anything but the check do not count",
                }
                continue
            r = results[-1]
            result = {
                "status": "passed"
                if statuses == {"passed"}
                else str(r.get("status", "failed")),
                "message": str(r.get("message", ""))[:2000],
                "choices": r.get("choices"),
                "returned": r.get("returned"),
            }
            got[key] = _judged(ex, result, answer_key)
    return got


def students_in(folder):
    """(students, notes): the students, by name, and lines for the
    instructor about what was left out.

    A folder whose sub-folders hold notebooks is a class, one student
    per sub-folder; otherwise the folder is one student's (a repository
    of one's own, whose other folders hold no notebooks).
    """
    folder = Path(folder)
    notes = []
    entries = sorted(os.scandir(folder), key=lambda e: e.name)
    subs = [e for e in entries if not e.name.startswith(".") and e.is_dir()]
    if not any(any(Path(e.path).glob("*.ipynb")) for e in subs):
        return [folder.resolve()], notes
    students = []
    for e in subs:
        if e.is_symlink():
            notes.append(
                f"{e.name}: a symbolic link, not a folder; not graded"
            )
        else:
            students.append(Path(e.path))
    for e in entries:
        if e.name.endswith(".ipynb") and not e.is_dir():
            notes.append(
                f"{e.name}: a notebook at the top of {folder}, "
                "outside any student's folder; not graded"
            )
    return students, notes


def notebooks_of(student):
    """(notebooks to grade, notes for the student)."""
    chosen, notes = {}, []
    for e in sorted(os.scandir(student), key=lambda e: e.name):
        if not e.name.endswith(".ipynb"):
            continue
        if e.is_symlink():
            notes.append(
                f"{e.name} is a symbolic link, not a notebook "
                "file; it was not graded (submit the notebook "
                "itself)"
            )
            continue
        if not e.is_file(follow_symlinks=False):
            continue
        match = HANDOUT_NAME.match(e.name)
        if match is None:
            notes.append(
                f"{e.name} was not graded: only notebooks with "
                "the handout's names (such as 02_data.ipynb) are"
            )
            continue
        chosen.setdefault(match.group(1), []).append(Path(e.path))
    graded = []
    for _, paths in sorted(chosen.items()):
        paths.sort(key=lambda p: (len(p.name), p.name))
        graded.append(paths[0])
        for other in paths[1:]:
            notes.append(
                f"{other.name} was not graded: {paths[0].name} "
                "is the handout's notebook of that chapter"
            )
    return graded, notes


def grade(
    submissions,
    limit_s=LIMIT_S,
    workers=None,
    trusted=False,
    memory=MEMORY,
    key=None,
    chapters=None,
):
    """(exercises, grades, notes): grades maps a student's name to
    {"scores", "notes", "flags", "explained"}; notes are lines for the
    instructor.

    key: the choice questions' answer key ({question: entry}); by
    default the key of the repository this package runs from, if any.
    chapters: the chapter numbers assigned (default: every chapter); the
    other chapters' notebooks are not run, and their exercises are not in
    the grades.
    """
    exercises = [
        e for e in all_exercises() if chapters is None or e.chapter in chapters
    ]
    jobs = {}
    students, class_notes = students_in(submissions)
    if key is None and questions.find_key() is not None:
        key = questions.load_key(questions.find_key())
    if not key:
        class_notes.append(
            "no answer key (--key): the choice questions are not graded"
        )
    if chapters is None:
        class_notes.append(
            "every chapter is graded; --chapters 2,3,5 or --handout FOLDER "
            "grades only the chapters assigned"
        )
    plans = {s.name: assigned(notebooks_of(s), chapters) for s in students}
    with concurrent.futures.ThreadPoolExecutor(
        workers or os.cpu_count() or 1
    ) as pool:
        for student in students:
            for nb in plans[student.name][0]:
                jobs[student.name, nb.name] = pool.submit(
                    run_notebook, nb, limit_s, trusted, memory
                )
    grades = {}
    for student in students:
        got, notes = {}, list(plans[student.name][1])
        runs = {
            nb: f.result() for (s, nb), f in jobs.items() if s == student.name
        }
        if not runs:
            notes.append(
                "no notebooks (.ipynb) in this folder"
                if chapters is None
                else "no notebook of the chapters assigned ("
                + ", ".join(map(str, chapters))
                + ")"
            )
        for nb, (state, cells) in sorted(runs.items()):
            if state["status"] == "timed out":
                notes.append(
                    f"{nb} did not finish within "
                    f"{state['seconds']:g} s; the exercises it "
                    "had not reached score zero"
                )
            elif state["status"] == "unreadable":
                notes.append(state.get("message", f"{nb} is unreadable"))
            elif state["status"] != "finished":
                notes.append(
                    f"{nb} could not be run to the end "
                    f"({state.get('message', '')})"
                )
            got.update(verdicts(cells, exercises, key))
        scores = []
        for ex in exercises:
            r = got.get(ex.key)
            if r is None:
                r = not_graded(ex, plans[student.name][0])
            points = ex.points if r["status"] == "passed" else 0
            scores.append((ex, points, r["status"], r.get("message", "")))
        flagged = [line for nb in plans[student.name][0] for line in flags(nb)]
        explained = [
            row for nb in plans[student.name][0] for row in explain_answers(nb)
        ]
        grades[student.name] = {
            "scores": scores,
            "notes": notes,
            "flags": flagged,
            "explained": explained,
        }
    return exercises, grades, class_notes


def handout_chapters(folder):
    """The chapter numbers of a handout: those of its notebooks."""
    if not folder.is_dir():
        raise ValueError(f"--handout {folder}: not a folder")
    found = sorted(
        {
            int(m.group(1))
            for p in folder.glob("*.ipynb")
            if (m := HANDOUT_NAME.match(p.name))
        }
    )
    if not found:
        raise ValueError(
            f"--handout {folder}: no chapter notebooks "
            "(such as 02_data.ipynb) in it"
        )
    return found


def assigned(plan, chapters):
    """A student's (notebooks, notes) with only the assigned chapters'
    notebooks graded; a note says which others were left."""
    graded, notes = plan
    if chapters is None:
        return plan
    keep = [nb for nb in graded if int(nb.name[:2]) in chapters]
    notes = list(notes) + [
        f"{nb.name} was not graded: chapter {int(nb.name[:2])} was not "
        "assigned"
        for nb in graded
        if nb not in keep
    ]
    return keep, notes


def not_graded(ex, notebooks):
    """The result of an exercise no check reported: its chapter's
    notebook was not handed in, or its check did not run in it."""
    mine = [nb.name for nb in notebooks if int(nb.name[:2]) == ex.chapter]
    if not mine:
        return {
            "status": "not handed in",
            "message": f"no notebook of chapter {ex.chapter} was handed in",
        }
    return {
        "status": "not run",
        "message": f"the check of {ex} did not "
        f"run in {mine[0]}: its cell is missing, or the notebook "
        "stopped before it",
    }


def explain_answers(path):
    """Each question in words a notebook answers: (key, question, text),
    its text cut to a length an instructor reads."""
    try:
        if path.stat().st_size > NOTEBOOK_BYTES:
            return []
        rows = handout.explain_answers(path)
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return []
    return [(k, q[:200], a[:5000]) for k, q, a in rows]


def write_gradebook(path, exercises, grades):
    with open(path, "w", newline="", encoding="utf-8") as f:
        out = csv.writer(f)
        out.writerow(
            ["student"]
            + [e.key for e in exercises]
            + ["total", "out of", "flags"]
        )
        top = sum(e.points for e in exercises)
        for name, g in grades.items():
            points = [p for _, p, _, _ in g["scores"]]
            out.writerow(
                [name]
                + points
                + [sum(points), top, "; ".join(g.get("flags", []))]
            )


def feedback_page(name, g):
    """One student's feedback as a small HTML page."""
    total = sum(p for _, p, _, _ in g["scores"])
    top = sum(e.points for e, _, _, _ in g["scores"])
    rows = "\n".join(
        f"<tr><td>{e}</td><td>{p} / {e.points}</td><td>{html.escape(s)}"
        f"</td><td>{html.escape(m)}</td></tr>"
        for e, p, s, m in g["scores"]
    )
    notes = "".join(
        f"<li>{html.escape(n)}</li>"
        for n in g["notes"]
        + [
            f"flagged for the instructor to read: {f}"
            for f in g.get("flags", [])
        ]
    )
    words = "\n".join(
        f"<tr><td>{html.escape(_exercise_name(k))}: {html.escape(q)}</td>"
        "<td>not auto-graded</td><td style='white-space: pre-wrap'>"
        f"{html.escape(a) if a else '(no answer written)'}</td></tr>"
        for k, q, a in g.get("explained", [])
    )
    return (
        f"<!doctype html>\n<meta charset='utf-8'>\n<title>Feedback:"
        f" {html.escape(name)}</title>\n<h1>{html.escape(name)}: "
        f"{total} / {top} points</h1>\n"
        + (f"<ul>{notes}</ul>\n" if notes else "")
        + "<table>\n<tr><th>exercise</th><th>points</th><th>result"
        f"</th><th>the check said</th></tr>\n{rows}\n</table>\n"
        + (
            "<h2>Questions answered in words</h2>\n<table>\n<tr><th>"
            "question</th><th>result</th><th>the answer</th></tr>\n"
            f"{words}\n</table>\n"
            if words
            else ""
        )
    )


def _exercise_name(key):
    """ "07.5" -> "chapter 7, exercise 5" (a key as written, otherwise)."""
    chapter, _, number = key.partition(".")
    if chapter.isdigit() and number.isdigit():
        return f"chapter {int(chapter)}, exercise {int(number)}"
    return key


def write_grades(out, exercises, grades):
    """Write the gradebook and feedback into the new folder out."""

    def fill(folder):
        (folder / "feedback").mkdir()
        write_gradebook(folder / "gradebook.csv", exercises, grades)
        for name, g in grades.items():
            (folder / "feedback" / f"{name}.html").write_text(
                feedback_page(name, g), encoding="utf-8"
            )

    outputs.atomic_folder(out, fill)


def main(argv=None):
    p = argparse.ArgumentParser(
        prog="python -m microgpt.course.grade",
        description=__doc__.splitlines()[0],
    )
    p.add_argument(
        "submissions",
        help="a folder with one folder per "
        "student, each with that student's notebooks",
    )
    p.add_argument(
        "--out", required=True, help="the folder to create for the grades"
    )
    p.add_argument(
        "--limit",
        type=float,
        default=LIMIT_S,
        metavar="S",
        help=f"seconds per notebook (default {LIMIT_S})",
    )
    p.add_argument(
        "--memory",
        type=float,
        default=MEMORY / 2**30,
        metavar="GIB",
        help=f"memory per notebook, GiB (default {MEMORY / 2**30:g})",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=None,
        metavar="N",
        help="notebooks run at once (default: the cores)",
    )
    p.add_argument(
        "--key",
        metavar="FILE",
        help="the choice questions' answer key (default: "
        f"{questions.KEY_FILE} of the repository the package runs from)",
    )
    p.add_argument(
        "--chapters",
        metavar="LIST",
        help="the chapters assigned, such as 2,3,5 or 2-5 (default: those "
        "of --handout, else every chapter)",
    )
    p.add_argument(
        "--handout",
        metavar="FOLDER",
        help="the handout the class was given: its chapters are the ones "
        "assigned",
    )
    p.add_argument(
        "--trusted",
        action="store_true",
        help="grade without the bubblewrap sandbox (only work you trust)",
    )
    args = p.parse_args(argv)
    sub, out = Path(args.submissions), Path(args.out)
    if not sub.is_dir() or sub.is_symlink():
        p.error(f"{sub} is not a folder of submissions")
    if not out.parent.is_dir():
        p.error(f"{out}: folder {out.parent} does not exist")
    if (
        args.limit <= 0
        or args.memory <= 0
        or (args.workers is not None and args.workers < 1)
    ):
        p.error("--limit, --memory and --workers must be positive")
    chapters = None
    try:
        if args.chapters:
            chapters = assignments.chapter_list(args.chapters)
        elif args.handout:
            chapters = handout_chapters(Path(args.handout))
    except ValueError as e:
        p.error(str(e))
    key = None
    if args.key:
        try:
            key = questions.load_key(args.key)
        except OSError as e:
            p.error(f"--key {args.key}: cannot read it ({e.strerror or e})")
        except (ValueError, KeyError, TypeError):
            p.error(
                f"--key {args.key}: not an answer key (a JSON file "
                f"like the book's {questions.KEY_FILE})"
            )
    if not args.trusted:
        why = sandbox.problem()
        if why:
            p.error(why)
    try:
        out.mkdir()  # exclusively: no one else's folder is written
    except FileExistsError:
        p.error(
            f"{out} exists; the grader creates its folder itself: "
            "choose a new one"
        )
    except OSError as e:
        p.error(f"{out}: cannot create it ({e.strerror or e})")
    start = time.monotonic()
    try:
        exercises, grades, notes = grade(
            sub,
            args.limit,
            args.workers,
            args.trusted,
            int(args.memory * 2**30),
            key=key,
            chapters=chapters,
        )
        write_grades(out, exercises, grades)
    except KeyboardInterrupt:
        shutil.rmtree(out, ignore_errors=True)
        print(
            "microgpt.course.grade: interrupted; nothing was written",
            file=sys.stderr,
        )
        return 130
    except OSError as e:
        print(f"microgpt.course.grade: error: {e}", file=sys.stderr)
        return 1
    for line in notes:
        print(f"note: {line}")
    top = sum(e.points for e in exercises)
    for name, g in grades.items():
        total = sum(p for _, p, _, _ in g["scores"])
        print(f"{name}: {total} / {top}")
    print(
        f"wrote {out / 'gradebook.csv'} and {len(grades)} feedback "
        f"pages in {time.monotonic() - start:.0f} s"
        + (" (trusted: no sandbox)" if args.trusted else "")
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
