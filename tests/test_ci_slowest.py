""".ci/slowest: a run's slowest tests written into the maintained note."""

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SCRIPT = ROOT / ".ci" / "slowest"

RULE = "=" * 29
LOG = f"""\
........ [100%]
{RULE} slowest 25 durations {RULE}
612.33s call     tests/test_portability.py::test_every_notebook_prints_the_same
98.10s setup    tests/test_book.py::test_strict_build_has_no_warnings

====================== 2023 passed in 899.35s (0:14:59) =======================
"""


def run(*args):
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_the_list_and_the_time_replace_the_old_ones(tmp_path):
    note = tmp_path / "MAINTAINING.md"
    shutil.copy(ROOT / "MAINTAINING.md", note)
    log = tmp_path / "suite.log"
    log.write_text(LOG, encoding="utf-8")
    proc = run(log, note)
    assert proc.returncode == 0, proc.stderr
    text = note.read_text(encoding="utf-8")
    assert "The last measured run: 2023 passed in 899.35s (0:14:59)." in text
    assert "| 612.33 | call | `tests/test_portability.py::" in text
    assert "| 98.10 | setup | `tests/test_book.py::" in text
    # Run again: the new list replaces the old one, not adds to it.
    assert run(log, note).returncode == 0
    assert note.read_text(encoding="utf-8") == text
    # Everything outside the markers is left as it was.
    original = (ROOT / "MAINTAINING.md").read_text(encoding="utf-8")
    assert (
        text.split("<!-- slowest: begin -->")[0]
        == original.split("<!-- slowest: begin -->")[0]
    )
    assert (
        text.split("<!-- slowest: end -->")[1]
        == original.split("<!-- slowest: end -->")[1]
    )


def test_a_log_without_durations_is_one_error_line(tmp_path):
    note = tmp_path / "MAINTAINING.md"
    shutil.copy(ROOT / "MAINTAINING.md", note)
    log = tmp_path / "suite.log"
    log.write_text("3 passed in 1.00s\n", encoding="utf-8")
    proc = run(log, note)
    assert proc.returncode == 1
    assert proc.stderr.startswith(".ci/slowest: error: ")
    assert len(proc.stderr.splitlines()) == 1
    assert note.read_text(encoding="utf-8") == (
        ROOT / "MAINTAINING.md"
    ).read_text(encoding="utf-8")


def test_a_missing_log_is_one_error_line(tmp_path):
    proc = run(tmp_path / "missing.log", tmp_path / "note.md")
    assert proc.returncode == 1
    assert "cannot read" in proc.stderr
    assert len(proc.stderr.splitlines()) == 1
