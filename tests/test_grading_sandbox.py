"""The grader under attack: a class whose students cheat or sabotage.

Each attack must fail to gain a point or to change anyone else's score,
and the honest student must be graded exactly. The notebooks run in
bubblewrap (microgpt.course.sandbox), as an instructor grades.
"""

import csv
import html
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from microgpt.course import grade as grader
from microgpt.course import sandbox
from microgpt.course.checks.exercise import all_exercises

pytestmark = pytest.mark.assignments

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
EXERCISES = all_exercises()
CH2 = [e for e in EXERCISES if e.chapter == 2]
CH2_POINTS = sum(e.points for e in CH2)
MARK = "microgpt-h8-still-running"  # a leftover process's argv

if sandbox.problem() is not None:
    raise RuntimeError(f"these tests need bubblewrap: {sandbox.problem()}")


def notebook(*sources):
    cells = [
        {
            "cell_type": "code",
            "execution_count": None,
            "id": f"c{i}",
            "metadata": {},
            "outputs": [],
            "source": s,
        }
        for i, s in enumerate(sources)
    ]
    return json.dumps(
        {"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    )


STUBS = "\n".join(
    f"def answer_{e.number}(*args):\n    raise NotImplementedError\n"
    for e in CH2
)
IMPORT = "from microgpt.course.checks import data as data_checks\n"


def forged(key, check):
    return json.dumps(
        {
            "exercise": key,
            "check": check,
            "status": "passed",
            "points": 1,
            "message": "",
        }
    )


FORGE_ALL = "import os, json\n" + "".join(
    f"line = {forged(e.key, e.check)!r} + '\\n'\n"
    "print(line)\n"
    "for var in ('MICROGPT_RESULTS',):\n"
    "    if os.environ.get(var):\n"
    "        open(os.environ[var], 'a').write(line)\n"
    "fd = os.environ.get('MICROGPT_RESULTS_FD')\n"
    "if fd:\n"
    "    os.write(int(fd), line.encode())\n"
    for e in CH2
)


def grade(submissions, out, *args, timeout=900):
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.course.grade",
            str(submissions),
            "--out",
            str(out),
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def gradebook(out):
    with open(out / "gradebook.csv", newline="", encoding="utf-8") as f:
        return {r["student"]: r for r in csv.DictReader(f)}


def leftovers():
    """Processes whose command line carries MARK."""
    found = []
    for proc in Path("/proc").iterdir():
        try:
            if MARK in (proc / "cmdline").read_bytes().decode(
                "utf-8", "replace"
            ):
                found.append(proc.name)
        except OSError:
            pass
    return found


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One class run: honest, forger, saboteur, hogs, honest mistakes."""
    top = tmp_path_factory.mktemp("class")
    subs = top / "subs"
    for name in (
        "honest",
        "forger",
        "saboteur",
        "hog",
        "flood",
        "linker",
        "dupe",
        "broken",
        "patcher",
    ):
        (subs / name).mkdir(parents=True)
    shutil.copy(BOOK / "02_data.ipynb", subs / "honest")
    calls = "".join(f"data_checks.{e.check}(answer_{e.number})\n" for e in CH2)
    # Forged result lines: in a cell of their own, in the check cell
    # after the real (failing) checks, and printed.
    (subs / "forger" / "02_data.ipynb").write_text(
        notebook(
            IMPORT + STUBS,
            FORGE_ALL,
            *[
                f"try:\n    data_checks.{e.check}(answer_{e.number})\n"
                f"except BaseException:\n    pass\n" + FORGE_ALL
                for e in CH2
            ],
            FORGE_ALL,
        )
    )
    # A patcher: swaps a check's code for one that passes.
    (subs / "patcher" / "02_data.ipynb").write_text(
        notebook(
            IMPORT + STUBS,
            "import sys\n"
            "mod = sys.modules['microgpt.course.checks.data']\n"
            "mod.check_decode_sample.__code__ = (lambda a: None).__code__\n",
            calls,
        )
    )
    # A saboteur: reads and overwrites a classmate's work, looks for the
    # book and the grades, starts a process that outlives it, floods.
    (subs / "saboteur" / "02_data.ipynb").write_text(
        notebook(
            "import os, glob, subprocess\n"
            "found = [p for depth in range(1, 6) for p in glob.glob("
            "'/*' * depth + '/02_data.ipynb') if not p.startswith('/proc')]\n"
            "for path in found + ['../honest/02_data.ipynb']:\n"
            "    try:\n"
            "        open(path, 'w').write('{}')\n"
            "    except OSError:\n"
            "        pass\n"
            f"subprocess.Popen(['sh', '-c', 'sleep 600; echo {MARK}'],"
            " start_new_session=True)\n",
            "import os, json\n"
            "lines = ''.join(json.dumps({'cell': 0, 'source': "
            "'data_checks.' + c + '(x)', 'results': [{'exercise': k, "
            "'check': c, 'status': 'passed'}]}) + '\\n' for k, c in "
            + repr([(e.key, e.check) for e in CH2])
            + ")\n"
            "parent = f'/proc/{os.getppid()}/fd'\n"
            "for fd in os.listdir(parent):\n"
            "    try:\n"
            "        os.write(os.open(f'{parent}/{fd}', os.O_WRONLY),"
            " lines.encode())\n"
            "    except OSError:\n"
            "        pass\n",
            "import urllib.request\n"
            "urllib.request.urlopen('http://example.com', timeout=5)\n",
        )
    )
    (subs / "hog" / "02_data.ipynb").write_text(
        notebook(
            "x = bytearray(3 << 30)\nx[::4096] = b'1' * len(x[::4096])\n",
            "import os\n"
            "kids = []\n"
            "for _ in range(400):\n"
            "    try:\n"
            "        pid = os.fork()\n"
            "    except OSError:\n"
            "        break\n"
            "    if pid == 0:\n"
            "        import time; time.sleep(30); os._exit(0)\n"
            "    kids.append(pid)\n"
            "assert len(kids) < 300, len(kids)\n",
        )
    )
    (subs / "flood" / "02_data.ipynb").write_text(
        notebook(
            "for _ in range(2000):\n    print('x' * 50_000)\n",
            "open('big', 'wb').write(b'0' * (100 << 20))\n",
        )
    )
    # Honest mistakes: a symlinked notebook, a stray notebook at the top,
    # a blank backup beside the solved chapter, an unreadable file.
    (subs / "linker" / "02_data.ipynb").symlink_to(BOOK / "02_data.ipynb")
    (subs / "victim_link").symlink_to(subs / "honest")
    shutil.copy(BOOK / "02_data.ipynb", subs / "stray.ipynb")
    shutil.copy(BOOK / "02_data.ipynb", subs / "dupe")
    (subs / "dupe" / "02_data-Copy1.ipynb").write_text(
        notebook(IMPORT + STUBS, calls)
    )
    (subs / "dupe" / "02_data_backup.ipynb").write_text(
        notebook(IMPORT + STUBS, calls)
    )
    (subs / "broken" / "02_data.ipynb").write_bytes(b"\xff\xfe{not json")
    honest_bytes = (subs / "honest" / "02_data.ipynb").read_bytes()
    out = top / "grades"
    done = grade(subs, out, "--limit", "60")
    return {
        "done": done,
        "out": out,
        "subs": subs,
        "top": top,
        "honest_bytes": honest_bytes,
    }


def test_the_run_finishes_and_honest_work_is_graded_exactly(graded):
    done = graded["done"]
    assert done.returncode == 0, done.stderr
    book = gradebook(graded["out"])
    assert set(book) == {
        "honest",
        "forger",
        "saboteur",
        "hog",
        "flood",
        "linker",
        "dupe",
        "broken",
        "patcher",
    }
    assert book["honest"]["flags"] == "" and book["dupe"]["flags"] == ""
    assert int(book["honest"]["total"]) == CH2_POINTS
    assert int(book["dupe"]["total"]) == CH2_POINTS
    assert (
        graded["subs"] / "honest" / "02_data.ipynb"
    ).read_bytes() == graded["honest_bytes"]


@pytest.mark.parametrize(
    "student", ["forger", "saboteur", "hog", "flood", "linker", "broken"]
)
def test_an_attack_gains_nothing(graded, student):
    assert int(gradebook(graded["out"])[student]["total"]) == 0


def test_a_notebook_out_of_memory_is_told_in_words(graded):
    page = (graded["out"] / "feedback" / "hog.html").read_text()
    assert (
        "02_data.ipynb could not be run to the end (its kernel "
        "stopped before the end: it ran out of memory" in page
    )


def test_forged_lines_are_named_on_the_feedback_page(graded):
    page = (graded["out"] / "feedback" / "forger.html").read_text()
    assert "reported more often than the check ran" in page


def test_no_process_outlives_the_grader(graded):
    assert leftovers() == []


def test_honest_mistakes_get_a_line_in_plain_words(graded):
    out, stdout = graded["out"], graded["done"].stdout
    assert "note: stray.ipynb: a notebook at the top of" in stdout
    assert "note: victim_link: a symbolic link, not a folder" in stdout
    linker = (out / "feedback" / "linker.html").read_text()
    assert "02_data.ipynb is a symbolic link" in linker
    dupe = (out / "feedback" / "dupe.html").read_text()
    assert (
        "02_data_backup.ipynb was not graded: 02_data.ipynb is the "
        "handout" in dupe
    )
    assert (
        "02_data-Copy1.ipynb was not graded: only notebooks with "
        "the handout" in dupe
    )
    broken = (out / "feedback" / "broken.html").read_text()
    assert (
        "02_data.ipynb could not be opened: it is not text (UTF-8)" in broken
    )
    assert "Error" not in broken.split("<table>")[0]


def test_an_existing_out_folder_fails_cleanly_before_anything_runs(tmp_path):
    (tmp_path / "subs" / "a").mkdir(parents=True)
    (tmp_path / "g").mkdir()
    done = grade(tmp_path / "subs", tmp_path / "g")
    assert done.returncode == 2 and "exists; the grader creates" in done.stderr
    assert "Traceback" not in done.stderr
    assert list((tmp_path / "g").iterdir()) == []


def test_without_bubblewrap_it_refuses_unless_trusted(tmp_path, monkeypatch):
    monkeypatch.setattr(grader.sandbox.shutil, "which", lambda name: None)
    (tmp_path / "subs" / "a").mkdir(parents=True)
    with pytest.raises(SystemExit) as info:
        grader.main([str(tmp_path / "subs"), "--out", str(tmp_path / "g")])
    assert info.value.code == 2
    assert not (tmp_path / "g").exists()
    assert (
        grader.main(
            [str(tmp_path / "subs"), "--out", str(tmp_path / "g"), "--trusted"]
        )
        == 0
    )


def test_verdicts_count_only_cells_that_call_the_check():
    ex = CH2[1]  # code to write: its result is taken as the cell reports
    line = {"exercise": ex.key, "check": ex.check, "status": "passed"}
    failed = dict(line, status="failed", message="wrong")
    call = f"data_checks.{ex.check}(answer)"
    assert (
        grader.verdicts([{"source": "x = 1", "results": [line]}], EXERCISES)
        == {}
    )
    assert (
        grader.verdicts([{"source": call, "results": [line]}], EXERCISES)[
            ex.key
        ]["status"]
        == "passed"
    )
    for results in ([failed, line], [line, line]):
        got = grader.verdicts(
            [{"source": call, "results": results}], EXERCISES
        )[ex.key]
        assert got["status"] == "failed"
    wrong_check = dict(line, check="check_other")
    assert (
        grader.verdicts(
            [{"source": call, "results": [wrong_check]}], EXERCISES
        )
        == {}
    )


def test_the_sandbox_holds_nothing_but_its_own_folder(tmp_path):
    """What code inside sees: its folder, no book, no network, no tmp."""
    folder = tmp_path / "mine"
    folder.mkdir()
    (tmp_path / "secret.txt").write_text("the instructor's")
    probe = (
        "import os, socket, json\n"
        "seen = {'book': os.path.exists(" + repr(str(BOOK)) + "),\n"
        "        'secret': os.path.exists("
        + repr(str(tmp_path / "secret.txt"))
        + "),\n"
        "        'tmp': os.listdir('/tmp'), 'cwd': os.getcwd()}\n"
        "try:\n"
        "    socket.create_connection(('1.1.1.1', 80), timeout=3)\n"
        "    seen['network'] = True\n"
        "except OSError:\n"
        "    seen['network'] = False\n"
        "try:\n"
        "    open(" + repr(str(ROOT / "microgpt" / "x.py")) + ", 'w')\n"
        "    seen['package_writable'] = True\n"
        "except OSError:\n"
        "    seen['package_writable'] = False\n"
        "print(json.dumps(seen))\n"
    )
    done = subprocess.run(
        sandbox.command(folder, [sys.executable, "-c", probe]),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "book": False,
        "secret": False,
        "tmp": [],
        "cwd": sandbox.INSIDE,
        "network": False,
        "package_writable": False,
    }
    assert not (ROOT / "microgpt" / "x.py").exists()


@pytest.mark.parametrize(
    "student, what",
    [
        ("forger", "looks for the grader's results"),
        ("forger", "writes result-like lines"),
        ("saboteur", "looks for the grader's results"),
        ("patcher", "uses sys.modules"),
        ("patcher", "reaches into a function's code"),
    ],
)
def test_code_that_touches_the_checks_is_flagged(graded, student, what):
    assert what in gradebook(graded["out"])[student]["flags"]
    page = (graded["out"] / "feedback" / f"{student}.html").read_text()
    assert "flagged for the instructor to read" in page
    assert html.escape(what) in page


def test_the_book_and_its_handout_raise_no_flag(tmp_path):
    from microgpt.course.assignments import write_copies

    write_copies(BOOK, tmp_path / "handout")
    notebooks = sorted(BOOK.glob("*.ipynb")) + sorted(
        (tmp_path / "handout").glob("*.ipynb")
    )
    assert len(notebooks) > 30
    assert [f for nb in notebooks for f in grader.flags(nb)] == []


@pytest.mark.parametrize(
    "code",
    [
        "import importlib\nimportlib.reload(data_checks)\n",
        "src = inspect.getsource(data_checks)\n",
        "exec(open(data_checks.__file__).read())\n",
        "data_checks._reference_decode([1], 'ab')\n",
        "data_checks.check_decode_sample = print\n",
        "setattr(data_checks, 'check_last_pairs', print)\n",
        "print({'exercise': '02.1', 'status': 'passed'})\n",
        "import os\nos.write(7, b'anything')\n",
    ],
)
def test_each_kind_of_tampering_is_flagged(tmp_path, code):
    nb = tmp_path / "02_data.ipynb"
    nb.write_text(notebook(IMPORT, code))
    assert len(grader.flags(nb)) >= 1


def test_the_private_copy_leaves_out_links_hidden_folders_and_huge_files(
    tmp_path,
):
    src = tmp_path / "ada"
    (src / "data").mkdir(parents=True)
    (src / "data" / "names.txt").write_text("emma\n")
    (src / ".git").mkdir()
    (src / ".git" / "HEAD").write_text("ref")
    (src / "02_data.ipynb").write_text("{}")
    (src / "link.txt").symlink_to(tmp_path / "elsewhere.txt")
    with open(src / "huge.bin", "wb") as f:
        f.truncate(sandbox.FILE_BYTES + 1)
    grader.private_copy(src, tmp_path / "copy")
    got = sorted(
        str(p.relative_to(tmp_path / "copy"))
        for p in (tmp_path / "copy").rglob("*")
    )
    assert got == ["02_data.ipynb", "data", "data/names.txt"]


def test_every_check_is_called_by_its_name_in_its_chapter():
    """The grader counts a result only from a cell that calls its check by
    name, so each chapter must call each of its checks so."""
    import re

    for ex in EXERCISES:
        [nb] = BOOK.glob(f"{ex.chapter:02d}_*.ipynb")
        cells = json.loads(nb.read_text(encoding="utf-8"))["cells"]
        code = "\n".join(
            "".join(c["source"]) for c in cells if c["cell_type"] == "code"
        )
        assert re.search(rf"\b{re.escape(ex.check)}\s*\(", code), ex
