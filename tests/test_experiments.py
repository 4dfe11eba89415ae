"""The experiments' command and their stored results."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

from microgpt.experiments import RESULTS, stored
from microgpt.experiments.__main__ import EXPERIMENTS, main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("name", sorted(EXPERIMENTS))
def test_every_experiment_has_a_stored_result_with_its_plan(name):
    result = stored(name)
    assert "plan" in result
    # Each result says how long it took, so a reader knows what a re-run
    # costs.
    assert {"seconds", "elapsed_s"} & set(result)


def test_every_stored_result_belongs_to_an_experiment():
    names = {p.name for p in RESULTS.iterdir() if p.name.endswith(".json")}
    assert names == {f"{name}.json" for name in EXPERIMENTS}


def test_the_readme_lists_every_experiment():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Experiments", 1)[1].split("\n## ", 1)[0]
    listed = set(re.findall(r"^\| `(\w+)` \|", section, re.M))
    assert listed == set(EXPERIMENTS)


def test_an_unknown_experiment_is_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as stop:
        main(["no_such_experiment", "--out", "x.json"])
    assert stop.value.code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_an_output_in_a_missing_folder_is_refused_before_the_run(tmp_path):
    out = tmp_path / "missing" / "result.json"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "microgpt.experiments",
            "gpt_vs_ngram",
            "--quick",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(
        "microgpt.experiments: error:"
    ), proc.stderr
    assert "does not exist" in lines[0] and str(out) in lines[0]
    assert not out.exists()
    assert "wrote" not in proc.stdout
