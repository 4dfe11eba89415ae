"""The command line's outputs: no user's file destroyed, no result lost.

--save and --log are checked before any work; what fails later still
names the user's path, and the model is saved before anything else can
go wrong.
"""

import os
import resource
import shutil
import signal

import pytest
from cli_run import assert_one_line_error, microgpt, samples_of

from microgpt import checkpoint, cli, train

pytestmark = pytest.mark.cli

QUICK = ["--steps", "3", "--num-samples", "2"]


@pytest.fixture
def dataset(tmp_path):
    """A copy of names.txt the test may lose: path and its bytes."""
    path = tmp_path / "names.txt"
    shutil.copyfile(os.environ["MICROGPT_DATA"], path)
    return path, path.read_bytes()


# -- an output is never an input, another output, or not a file ---------------


@pytest.mark.parametrize("option", ["--save", "--log"])
def test_an_output_that_is_the_dataset_is_refused(dataset, option):
    path, before = dataset
    (path.parent / "link.txt").symlink_to(path)
    os.link(path, path.parent / "hard.txt")
    for name in ("names.txt", "link.txt", "hard.txt"):
        out = path.parent / name
        assert_one_line_error(
            microgpt("train", "--data", str(path), option, str(out)),
            f"{option} {out}: the same file as --data {path}, which it "
            f"would overwrite",
        )
        # the default dataset too: here $MICROGPT_DATA
        assert_one_line_error(
            microgpt(
                "train", option, str(out), env={"MICROGPT_DATA": str(path)}
            ),
            f"the same file as the dataset {path}",
        )
    assert path.read_bytes() == before


def test_the_log_and_the_model_need_files_of_their_own(tmp_path):
    out = tmp_path / "out"
    for args in (
        ["--log", str(out), "--save", str(out)],
        ["--save", str(out), "--log", f"{tmp_path}/./out"],
    ):
        assert_one_line_error(
            microgpt("train", *args), "the same file as", "give each its own"
        )
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("option", ["--save", "--log"])
def test_a_fifo_is_refused_and_left_a_fifo(tmp_path, option):
    # A device (/dev/null) is refused the same way; a FIFO is what
    # a test can make, and break, without being root.
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert_one_line_error(
        microgpt("train", option, str(fifo)),
        f"{option} {fifo}: is not a regular file",
    )
    assert not fifo.is_file() and fifo.exists()


@pytest.mark.skipif(
    not os.path.exists("/dev/full"),
    reason="needs Linux's /dev/full, a disk that is full",
)
def test_a_device_is_refused_before_any_work():
    assert_one_line_error(
        microgpt("train", "--log", "/dev/full"),
        "--log /dev/full: is not a regular file",
    )


# -- what cannot be written is found before training --------------------------


def test_a_folder_that_is_a_file_is_refused(tmp_path):
    (tmp_path / "notes").write_text("mine")
    path = tmp_path / "notes" / "m.npz"
    assert_one_line_error(
        microgpt("train", "--save", str(path)),
        f"{tmp_path / 'notes'} is not a folder",
    )


@pytest.mark.skipif(
    not os.path.isdir("/proc/self"),
    reason="needs Linux's /proc, where nobody can write",
)
@pytest.mark.parametrize("option", ["--save", "--log"])
def test_a_folder_that_cannot_be_written_is_refused_up_front(option):
    assert_one_line_error(
        microgpt("train", option, "/proc/m.npz"),
        f"{option} /proc/m.npz: cannot write in folder /proc",
    )


def small_disk(limit):
    """A child whose files can hold at most limit bytes (EFBIG beyond)."""

    def apply():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


def test_a_log_that_fills_up_midway_names_the_log(tmp_path):
    log = tmp_path / "log.jsonl"
    result = microgpt(
        "train", "--steps", "5", "--log", str(log), preexec_fn=small_disk(100)
    )
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert (
        result.stderr.splitlines()[-1]
        == f"microgpt: error: --log {log}: File too large"
    )
    assert log.read_text().startswith('{"step": 1, ')  # what was written


def test_a_save_that_fails_late_names_the_users_path(tmp_path):
    model = tmp_path / "m.npz"
    result = microgpt(
        "train", *QUICK, "--save", str(model), preexec_fn=small_disk(1000)
    )
    assert result.returncode == 1
    assert (
        result.stderr.splitlines()[-1]
        == f"microgpt: error: cannot write {model}: File too large"
    )
    assert os.listdir(tmp_path) == []  # no half file, no temporary one


# -- the model is saved first; the samples print whatever stdout takes --------


def test_samples_stdout_cannot_encode_are_escaped_and_the_model_kept(tmp_path):
    data, model = tmp_path / "names.txt", tmp_path / "m.npz"
    data.write_text("zoë\nchloé\nrené\n", encoding="utf-8")
    result = microgpt(
        "train",
        "--data",
        str(data),
        "--save",
        str(model),
        "--steps",
        "30",
        "--num-samples",
        "10",
        "--temperature",
        "2",
        env={"PYTHONIOENCODING": "ascii"},
    )
    assert result.returncode == 0, result.stderr
    assert "\\xe9" in result.stdout or "\\xeb" in result.stdout
    assert len(samples_of(result.stdout)) == 10
    assert checkpoint.load(model)[2].chars == tuple(
        sorted(set("zoëchloérené"))
    )


def test_the_model_is_saved_before_sampling(tmp_path, monkeypatch, capsys):
    def broken_sample(*args, **kwargs):
        assert model.exists()  # saved already
        raise MemoryError()

    model = tmp_path / "m.npz"
    monkeypatch.setattr(train, "sample", broken_sample)
    assert cli.main(["train", *QUICK, "--save", str(model)]) == 1
    assert "out of memory" in capsys.readouterr().err
    checkpoint.load(model)  # whole, and a checkpoint


def test_freed_memory_is_kept_only_when_asked(monkeypatch, capsys):
    from microgpt import heap

    calls = []
    monkeypatch.setattr(
        heap, "keep_freed_memory", lambda: calls.append(1) or True
    )
    assert cli.main(["train", *QUICK]) == 0
    assert calls == [] and "freed memory" not in capsys.readouterr().err
    assert cli.main(["train", *QUICK, "--keep-freed-memory"]) == 0
    assert calls == [1]
    assert (
        "microgpt: freed memory is kept for reuse (glibc's mallopt)"
        in capsys.readouterr().err
    )
