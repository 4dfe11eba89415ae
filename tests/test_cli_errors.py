"""The command line's bad input: one line on stderr, exit 1, no traceback.

Each refusal comes before any work: nothing is printed to stdout first.
"""

import os
import resource
import subprocess
import sys

import pytest
from cli_run import assert_one_line_error, microgpt

from microgpt import checkpoint, cli, commands, cost, outputs, train
from microgpt.config import ModelConfig, TrainConfig

pytestmark = pytest.mark.cli


@pytest.fixture(scope="module")
def model(tmp_path_factory, docs):
    """A small checkpoint to sample from."""
    run = train.run(
        "numpy",
        docs,
        ModelConfig(n_embd=8, n_head=2),
        TrainConfig(num_steps=2, num_samples=1),
    )
    path = tmp_path_factory.mktemp("model") / "model.npz"
    return checkpoint.save(path, run.params, run.model_config, run.tokenizer)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (
            ["--n-head", "3"],
            ["--n-embd (16) must be divisible by --n-head (3)"],
        ),
        (["--n-layer", "0"], ["--n-layer must be a positive integer, got 0"]),
        (["--steps", "-5"], ["--steps must", "-5"]),
        (["--temperature", "0"], ["--temperature must", "positive number"]),
        (["--temperature", "1e-310"], ["--temperature must be at least"]),
        (["--lr", "nan"], ["--lr must", "nan"]),
        (["--beta1", "1"], ["--beta1 must", "[0, 1)"]),
        (["--beta2", "-0.5"], ["--beta2 must", "[0, 1)"]),
        (["--eps", "0"], ["--eps must"]),
        (["--batch-size", "0"], ["--batch-size must"]),
        (["--num-samples", "0"], ["--num-samples must"]),
        (["--save", ""], ["--save needs a file path"]),
        (["--save", "."], ["--save .: is a folder"]),
        (["--log", ""], ["--log needs a file path"]),
        (["--impl", "numpy", "--device", "cpu"], ["--device", "torch only"]),
        (
            ["--impl", "scalar", "--dtype", "float32"],
            ["--dtype", "torch only"],
        ),
        (["--impl", "torch", "--device", "warp9"], ["bad --device 'warp9'"]),
        (["--impl", "torch", "--device", "cuda:99"], ["--device cuda:99"]),
        (
            ["--impl", "torch", "--device", "meta"],
            ["--device meta: microgpt runs on cpu, cuda or cuda:N"],
        ),
        (["--impl", "torch", "--device", "mps"], ["--device mps: microgpt"]),
        (["--impl", "torch", "--device", "xpu"], ["--device xpu: microgpt"]),
        (["--impl", "torch", "--device", "cpu:1"], ["--device cpu:1: micro"]),
        (
            ["--batch-size", "40000"],
            [
                "--batch-size 40000 is more than the 32033 documents",
                "at most 32033",
            ],
        ),
        (["--save", "/nonexistent/dir/m.npz"], ["--save", "does not exist"]),
        (["--log", "/nonexistent/dir/l.jsonl"], ["--log", "does not exist"]),
        (
            ["--val-fraction", "1"],
            ["--val-fraction must be at least 0 and below 1, got 1.0"],
        ),
        (["--val-fraction", "-0.1"], ["--val-fraction must", "-0.1"]),
        (["--val-fraction", "nan"], ["--val-fraction must", "nan"]),
        (
            ["--val-fraction", "0.1", "--eval-every", "-1"],
            ["--eval-every must be 0 or more steps, got -1"],
        ),
        (["--eval-every", "50"], ["--eval-every needs --val-fraction"]),
    ],
)
def test_bad_train_settings_give_one_line(args, fragments):
    assert_one_line_error(microgpt("train", *args), *fragments)


def test_holding_out_every_document_gives_one_line(tmp_path):
    two = tmp_path / "two.txt"
    two.write_text("emma\nolivia\n")
    assert_one_line_error(
        microgpt("train", "--data", str(two), "--val-fraction", "0.9"),
        "--val-fraction 0.9",
        "leaves none to train on",
    )


def test_a_missing_package_gives_one_line(tmp_path):
    (tmp_path / "torch.py").write_text(
        "raise ImportError('torch is not installed here')\n"
    )
    result = microgpt(
        "train",
        "--impl",
        "torch",
        "--steps",
        "1",
        env={"PYTHONPATH": str(tmp_path)},
    )
    assert_one_line_error(
        result,
        "--impl torch needs a missing package",
        "torch is not installed here",
    )


def test_an_error_message_stays_on_one_line(capsys):
    cli._error("first line\nsecond line")
    assert (
        capsys.readouterr().err == "microgpt: error: first line second line\n"
    )


def test_a_missing_dataset_gives_one_line(tmp_path):
    missing = tmp_path / "none.txt"
    assert_one_line_error(
        microgpt("train", "--data", str(missing)), "not found", str(missing)
    )
    assert_one_line_error(
        microgpt("train", env={"MICROGPT_DATA": str(missing)}),
        "MICROGPT_DATA",
        str(missing),
    )


def test_an_empty_dataset_gives_one_line(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert_one_line_error(
        microgpt("train", "--data", str(empty)), "empty", str(empty)
    )


def test_a_corrupt_dataset_gives_one_line(tmp_path):
    corrupt = tmp_path / "names.txt"
    corrupt.write_text("emma\nolivia\n")
    assert_one_line_error(
        microgpt("train", env={"MICROGPT_DATA": str(corrupt)}),
        str(corrupt),
        "sha256",
    )
    binary = tmp_path / "names.bin"
    binary.write_bytes(b"\xff\xfe\xfa")
    assert_one_line_error(microgpt("train", "--data", str(binary)), "UTF-8")


@pytest.mark.parametrize(
    "make, fragment",
    [
        (lambda p, good: None, "no such checkpoint file"),
        (lambda p, good: p.write_text("emma\n"), "not an .npz archive"),
        (
            lambda p, good: p.write_bytes(good.read_bytes()[:300]),
            "truncated or corrupt",
        ),
    ],
    ids=["missing", "text", "truncated"],
)
def test_a_bad_checkpoint_gives_one_line(model, tmp_path, make, fragment):
    path = tmp_path / "bad.npz"
    make(path, model)
    assert_one_line_error(
        microgpt("sample", "--load", str(path)), str(path), fragment
    )


@pytest.mark.parametrize(
    "args, fragment",
    [
        (["--num-samples", "0"], "--num-samples must be a positive integer"),
        (["--temperature", "-1"], "--temperature must"),
        (["--impl", "scalar", "--device", "cpu"], "torch only"),
        (["--impl", "torch", "--device", "meta"], "--device meta: microgpt"),
    ],
)
def test_bad_sample_settings_give_one_line(model, args, fragment):
    assert_one_line_error(
        microgpt("sample", "--load", str(model), *args), fragment
    )


# -- sizes: refused up front, with what they need and what there is -----------


def no_more_memory_than(limit):
    """A child's address space cap: a failed refusal fails, not the host."""
    return lambda: resource.setrlimit(resource.RLIMIT_AS, (limit, limit))


@pytest.mark.parametrize(
    "args",
    [
        ["--n-embd", "65536"],
        ["--block-size", "1000000000"],
        ["--n-layer", "1000000"],
    ],
)
def test_sizes_beyond_memory_are_refused_before_any_work(args):
    result = microgpt("train", *args, preexec_fn=no_more_memory_than(4 << 30))
    assert_one_line_error(
        result,
        "this run would need about",
        "GB of memory, and this machine has",
        "free",
    )


def test_the_estimate_is_held_against_the_memory_there_is(monkeypatch, capsys):
    monkeypatch.setattr(cost, "memory_available", lambda: 20 << 20)
    assert cli.main(["train", "--n-embd", "512", "--steps", "1"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith("microgpt: error: this run would need about ")
    assert "this machine has 21 MB free" in err


def test_running_out_of_memory_anyway_is_one_line(monkeypatch, capsys):
    def too_big(*args, **kwargs):
        raise MemoryError()

    monkeypatch.setattr(train, "train", too_big)
    assert cli.main(["train", "--steps", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("microgpt: error: out of memory")


def test_a_large_step_is_announced_before_training():
    result = microgpt(
        "train",
        "--n-embd",
        "512",
        "--batch-size",
        "16",
        "--steps",
        "1",
        "--num-samples",
        "1",
    )
    assert result.returncode == 0, result.stderr
    first = result.stderr.splitlines()[0]
    assert first.startswith(
        "microgpt: note: each step trains 16 documents, some "
    )
    assert "GFLOP" in first and "times a step of the original" in first


# -- interrupted, diverged, odd data paths ------------------------------------


def test_ctrl_c_while_the_libraries_load_is_one_line(tmp_path):
    # Ctrl-C arrives as KeyboardInterrupt, here while numpy is imported.
    (tmp_path / "numpy.py").write_text("raise KeyboardInterrupt\n")
    for args in (["train"], ["sample", "--load", "m.npz"]):
        result = microgpt(*args, env={"PYTHONPATH": str(tmp_path)})
        assert result.returncode == 130
        assert result.stderr == "microgpt: interrupted\n"
        assert result.stdout == ""


@pytest.mark.parametrize(
    "args", [["--lr", "1e300"], ["--lr", "1e100", "--batch-size", "8"]]
)
def test_a_diverging_run_says_so_in_one_line_and_nothing_else(args):
    result = microgpt("train", *args, "--steps", "5")
    assert result.returncode == 1
    assert "Warning" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("microgpt: error: training diverged at step")


def test_a_dataset_that_is_not_a_file_says_what_it_is(tmp_path):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)  # reading it would wait for a writer forever
    assert_one_line_error(
        microgpt("train", "--data", str(tmp_path)),
        f"the dataset {tmp_path} is a folder",
    )
    assert_one_line_error(
        microgpt("train", "--data", str(fifo)),
        f"the dataset {fifo} is not a regular file",
    )
    assert_one_line_error(
        microgpt("train", env={"MICROGPT_DATA": str(tmp_path)}),
        "is a folder",
        "MICROGPT_DATA",
    )


# -- what is bad input and what is a bug -------------------------------------


def test_a_bug_keeps_its_traceback(monkeypatch):
    # A ValueError that is not one of the package's own error types is
    # a bug in microgpt: main lets it through, traceback and all.
    def bug(*args, **kwargs):
        raise ValueError("operands could not be broadcast together")

    monkeypatch.setattr(train, "train", bug)
    with pytest.raises(ValueError, match="could not be broadcast"):
        cli.main(["train", "--steps", "1"])


def test_a_bug_keeps_its_traceback_in_a_fresh_process(tmp_path):
    # The same, as a user sees it: the traceback, not one line.
    script = tmp_path / "bug.py"
    script.write_text(
        "import sys\n"
        "from microgpt import cli, train\n"
        "def bug(*args, **kwargs):\n"
        "    raise ValueError('a bug')\n"
        "train.train = bug\n"
        "sys.exit(cli.main(['train', '--steps', '1']))\n"
    )
    result = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True
    )
    assert result.returncode == 1
    assert "Traceback" in result.stderr
    assert "ValueError: a bug" in result.stderr
    assert "microgpt: error" not in result.stderr


def test_an_os_error_about_another_file_keeps_its_traceback(monkeypatch):
    def broken(path):
        raise OSError(5, "Input/output error", "/somewhere/else")

    monkeypatch.setattr(commands, "load_docs", broken)
    with pytest.raises(OSError, match="Input/output error"):
        cli.main(["train", "--steps", "1"])


def test_an_os_error_about_the_users_file_is_one_line(
    monkeypatch, capsys, tmp_path
):
    data = tmp_path / "names.txt"
    data.write_text("ab\nba\n")

    def unreadable(path):
        raise PermissionError(13, "Permission denied", str(data))

    monkeypatch.setattr(commands, "load_docs", unreadable)
    assert cli.main(["train", "--steps", "1", "--data", str(data)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"microgpt: error: [Errno 13] Permission denied: '{data}'"]


@pytest.mark.parametrize(
    "error",
    [
        commands.CliError("bad option"),
        train.Diverged("training diverged at step 1"),
        checkpoint.CheckpointError("not a checkpoint"),
        outputs.OutputError("--save x: is a folder"),
        outputs.WriteError("cannot write x: disk full"),
    ],
)
def test_the_packages_own_errors_are_one_line(monkeypatch, capsys, error):
    def fail(*args, **kwargs):
        raise error

    monkeypatch.setattr(train, "train", fail)
    assert cli.main(["train", "--steps", "1"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1] == f"microgpt: error: {error}"
