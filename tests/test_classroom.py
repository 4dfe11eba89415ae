"""The workflow a handout carries: linted, pinned, and run here as on GitHub.

A handout folder as a student's repository: the workflow's steps after
its install step, run in that folder with this venv's Python, grade a
blank chapter zero and the book's own copy (the solutions) full marks,
and write the points to the summary page as a Markdown table.
"""

import csv
import importlib.metadata
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from test_workflows import actionlint

from microgpt.course import classroom
from microgpt.course.assignments import write_copies
from microgpt.course.checks.exercise import all_exercises

pytestmark = pytest.mark.assignments

BOOK = Path(__file__).resolve().parents[1] / "book"
CHAPTER = "02_data.ipynb"
PIN = re.compile(r"([\w-]+)(?:\[\w+\])?==([\w.]+)")


@pytest.fixture(scope="module")
def handout(tmp_path_factory):
    out = tmp_path_factory.mktemp("course") / "handout"
    write_copies(BOOK, out)
    return out


def steps():
    wf = yaml.safe_load(classroom.workflow())
    [job] = wf["jobs"].values()
    return job["steps"]


def install_line():
    [install] = [
        s["run"] for s in steps() if "pip install" in s.get("run", "")
    ]
    return install


def test_every_handout_carries_the_workflow(handout):
    path = handout / ".github" / "workflows" / "grade.yml"
    assert path.read_text(encoding="utf-8") == classroom.workflow()
    wf = yaml.safe_load(classroom.workflow())
    triggers = wf.get("on", wf.get(True))  # YAML 1.1 reads `on` as True
    assert set(triggers) == {"push", "workflow_dispatch"}


# actionlint is a contributors' tool, of requirements.txt's stack.
@pytest.mark.workflows
def test_the_workflow_passes_actionlint(handout):
    actionlint(".github/workflows/grade.yml", cwd=handout)


# The pins are requirements.txt's versions, which .ci/lowest replaces.
@pytest.mark.workflows
def test_it_installs_this_release_and_the_versions_tested_here():
    pins = dict(PIN.findall(install_line()))
    assert pins.pop("microgpt-book") == importlib.metadata.version(
        "microgpt-book"
    )
    assert '"microgpt-book[torch]==' in install_line()
    # What the chapters import and what the grader runs them with.
    assert {
        "torch",
        "numpy",
        "matplotlib",
        "ipywidgets",
        "nbclient",
        "ipykernel",
    } <= set(pins)
    for name, pinned in pins.items():
        here = importlib.metadata.version(name).split("+")[0]  # 2.13.0+cpu
        assert pinned == here, name


def run_after_install(folder, summary, runner_temp):
    """The workflow's run steps after the install, as a runner runs them."""
    runs = [s.get("run") for s in steps()]
    after = runs[runs.index(install_line()) + 1 :]
    env = dict(
        os.environ,
        GITHUB_STEP_SUMMARY=str(summary),
        RUNNER_TEMP=str(runner_temp),
        PATH=os.pathsep.join(
            [str(Path(sys.executable).parent), os.environ["PATH"]]
        ),
    )
    for run in filter(None, after):
        # GitHub's default shell for a run step on Linux
        proc = subprocess.run(
            ["bash", "--noprofile", "--norc", "-eo", "pipefail", "-c", run],
            cwd=folder,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )
        assert proc.returncode == 0, (run, proc.stdout, proc.stderr)


@pytest.mark.parametrize("solved", [False, True], ids=["blank", "solved"])
def test_its_steps_grade_the_repository_and_write_the_points(
    handout, tmp_path, solved
):
    repo = tmp_path / "ada"
    repo.mkdir()
    shutil.copytree(handout / ".github", repo / ".github")
    shutil.copy((BOOK if solved else handout) / CHAPTER, repo / CHAPTER)
    # A grades folder committed by the student is no obstacle.
    (repo / "grades").mkdir()
    (repo / "grades" / "gradebook.csv").write_text("student,total\n")
    summary = tmp_path / "summary.md"
    summary.write_text("", encoding="utf-8")
    temp = tmp_path / "runner"
    temp.mkdir()
    run_after_install(repo, summary, temp)
    assert (repo / "grades" / "gradebook.csv").read_text() == (
        "student,total\n"
    )
    ours = [e for e in all_exercises() if e.chapter == 2]
    assert len(ours) >= 2
    with open(
        temp / "grades" / "gradebook.csv", newline="", encoding="utf-8"
    ) as f:
        [row] = list(csv.DictReader(f))
    got = sum(int(row[e.key]) for e in ours)
    assert got == (sum(e.points for e in ours) if solved else 0)
    assert int(row["total"]) == got  # the other chapters are not there
    assert (temp / "grades" / "feedback" / "ada.html").is_file()
    text = summary.read_text(encoding="utf-8")
    top = sum(e.points for e in all_exercises())
    assert f"### ada: {got} / {top} points" in text
    assert "| exercise | points | out of |\n| --- | ---: | ---: |" in text
    for e in ours:
        earned = e.points if solved else 0
        assert f"| {e} | {earned} | {e.points} |" in text
    assert "student," not in text  # a table, not the CSV
    [upload] = [s for s in steps() if "upload-artifact" in s.get("uses", "")]
    path = upload["with"]["path"].replace("${{ runner.temp }}", str(temp))
    assert (Path(path) / "gradebook.csv").is_file()


def test_its_time_limit_is_above_the_worst_case():
    """Every chapter with exercises at the grader's limit, two at a time
    (a two-core runner), and ten minutes to install."""
    import math

    from microgpt.course.checks.exercise import CHAPTERS
    from microgpt.course.grade import LIMIT_S

    [job] = yaml.safe_load(classroom.workflow())["jobs"].values()
    worst = math.ceil(len(CHAPTERS) / 2) * LIMIT_S / 60
    assert job["timeout-minutes"] >= worst + 10


def test_a_missing_gradebook_is_one_clear_error(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "microgpt.course.classroom", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert "cannot read the gradebook in" in done.stderr
    assert "Traceback" not in done.stderr


def test_the_teaching_page_states_the_time_limit_and_the_worst_case():
    import math

    from microgpt.course.checks.exercise import CHAPTERS
    from microgpt.course.grade import LIMIT_S

    [job] = yaml.safe_load(classroom.workflow())["jobs"].values()
    page = " ".join(
        (BOOK / "appendix_teaching.md").read_text(encoding="utf-8").split()
    )
    worst = math.ceil(len(CHAPTERS) / 2) * LIMIT_S // 60
    assert f"Its time limit, {job['timeout-minutes']} minutes" in page
    assert f"grader's {LIMIT_S} s limit, two at a time" in page
    assert f"two-core runner, takes {worst} minutes" in page
