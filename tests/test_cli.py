"""The command line, run as a user would: python -m microgpt ...

Three parts: what a run prints, logs, saves and samples; bad input, which
gets one line on stderr, exit 1 and no traceback, before any work (a bug
keeps its traceback); and the outputs, where no user's file is destroyed
and no result is lost: --save and --log are checked before any work, what
fails later still names the user's path, and the model is saved before
anything else can go wrong.
"""

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
from dataclasses import fields

import pytest
from cli_run import assert_one_line_error, microgpt, samples_of

from microgpt import (
    checkpoint,
    cli,
    commands,
    cost,
    data,
    gpt_scalar,
    outputs,
    train,
)
from microgpt import options as options_
from microgpt.config import ModelConfig, SampleConfig, TrainConfig

pytestmark = pytest.mark.cli


# -- runs: what the commands print, log, save and sample ---------------------


# A small, quick model and run; the same flags drive the in-process check.
SMALL = [
    "--n-layer",
    "2",
    "--n-embd",
    "8",
    "--n-head",
    "2",
    "--block-size",
    "8",
    "--steps",
    "4",
    "--seed",
    "3",
    "--num-samples",
    "5",
    "--temperature",
    "0.9",
]
SMALL_MODEL = ModelConfig(n_layer=2, n_embd=8, n_head=2, block_size=8)
SMALL_TRAIN = TrainConfig(num_steps=4, seed=3)
SMALL_SAMPLE = SampleConfig(num_samples=5, temperature=0.9)


@pytest.fixture(scope="module")
def trained(tmp_path_factory, docs):
    """One CLI training run with --log and --save, and the same run made
    in-process through train.run."""
    folder = tmp_path_factory.mktemp("cli")
    log, model = folder / "log.jsonl", folder / "model.npz"
    result = microgpt(
        "train",
        "--impl",
        "scalar",
        *SMALL,
        "--log",
        str(log),
        "--save",
        str(model),
    )
    expected = train.run(
        "scalar", docs, SMALL_MODEL, SMALL_TRAIN, SMALL_SAMPLE
    )
    return result, log, model, expected


# -- train and sample ---------------------------------------------------------


def test_train_prints_the_originals_summary_then_samples(trained, docs):
    result, _, _, expected = trained
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"num docs: {len(docs)}"
    assert lines[1] == f"vocab size: {expected.tokenizer.vocab_size}"
    n = sum(
        len(r) * len(r[0])
        for r in train.get_twin("scalar").to_weights(expected.params).values()
    )
    assert lines[2] == f"num params: {n}"
    assert lines[-5] == f"sample  1: {expected.samples[0]}"
    assert samples_of(result.stdout) == expected.samples


def test_the_default_run_is_the_originals(tmp_path, expected_run):
    log = tmp_path / "log.jsonl"
    result = microgpt("train", "--log", str(log))  # numpy, all defaults
    assert result.returncode == 0, result.stderr
    assert samples_of(result.stdout) == expected_run["samples"]
    losses = [
        json.loads(line)["loss"] for line in log.read_text().splitlines()
    ]
    assert losses == pytest.approx(expected_run["losses"], rel=1e-12)


@pytest.mark.parametrize("impl", ["numpy", "torch"])
def test_batched_training_runs_and_logs_each_step(impl, tmp_path, docs):
    log = tmp_path / "log.jsonl"
    result = microgpt(
        "train",
        "--impl",
        impl,
        *SMALL,
        "--batch-size",
        "16",
        "--log",
        str(log),
    )
    assert result.returncode == 0, result.stderr
    batched = TrainConfig(num_steps=4, seed=3, batch_size=16)
    expected = train.run(impl, docs, SMALL_MODEL, batched, SMALL_SAMPLE)
    losses = [
        json.loads(line)["loss"] for line in log.read_text().splitlines()
    ]
    assert losses == expected.losses  # the same run, in-process
    assert samples_of(result.stdout) == expected.samples
    assert ("microgpt: torch on cpu, in float64" in result.stderr) == (
        impl == "torch"
    )


def test_train_shows_a_progress_bar_on_stderr(trained):
    result = trained[0]
    assert "4/4" in result.stderr and "step/s" in result.stderr
    assert "loss=" in result.stderr
    assert "step/s" not in result.stdout


def test_the_log_has_every_loss_at_full_precision(trained):
    _, log, _, expected = trained
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["step"] for r in records] == [1, 2, 3, 4]
    # == on floats: the JSON holds each loss's exact repr.
    assert [r["loss"] for r in records] == expected.losses


def test_a_held_out_fraction_is_measured_and_logged(tmp_path, docs):
    log = tmp_path / "log.jsonl"
    result = microgpt(
        "train",
        *SMALL,
        "--val-fraction",
        "0.05",
        "--eval-every",
        "3",
        "--log",
        str(log),
    )
    assert result.returncode == 0, result.stderr
    train_docs, val_docs = data.split_docs(docs, 0.05)
    expected = train.run(
        "numpy",
        train_docs,
        SMALL_MODEL,
        SMALL_TRAIN,
        SMALL_SAMPLE,
        val_docs=val_docs,
        eval_every=3,
    )
    assert [s for s, _ in expected.val_losses] == [0, 3, 4]
    lines = result.stdout.splitlines()
    assert lines[3] == f"held out: {len(val_docs)} docs, never trained on"
    assert [ln for ln in lines if "held-out loss" in ln] == [
        f"step {s}: held-out loss {x:.4f}" for s, x in expected.val_losses
    ]
    records = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["loss"] for r in records if "loss" in r] == expected.losses
    assert [
        (r["step"], r["val_loss"]) for r in records if "val_loss" in r
    ] == expected.val_losses
    assert samples_of(result.stdout) == expected.samples
    # Piped, the bar is drawn once, at the end: no clearing around each
    # held-out line lands in the stream between them.
    assert result.stderr.count("4/4") == 1, repr(result.stderr)
    assert "0/4" not in result.stderr


def test_piped_the_bar_and_the_held_out_lines_do_not_interleave():
    # stderr into stdout, as 2>&1 | tee does: every held-out line stays
    # whole, on a line of its own.
    result = subprocess.run(
        [sys.executable, "-m", "microgpt", "train", *SMALL]
        + ["--val-fraction", "0.05", "--eval-every", "1"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0
    lines = result.stdout.replace("\r", "\n").splitlines()
    held = [ln for ln in lines if "held-out loss" in ln]
    assert len(held) == 5  # before training and after each of 4 steps
    assert all(ln.startswith("step ") for ln in held)
    assert not [ln for ln in lines if ln.strip() == "" and ln]


@pytest.mark.parametrize("impl", train.TWINS)
def test_sample_from_the_saved_model_with_any_implementation(trained, impl):
    model = trained[2]
    results = [
        microgpt(
            "sample",
            "--load",
            str(model),
            "--impl",
            name,
            "--num-samples",
            "6",
            "--seed",
            "11",
        )
        for name in ("scalar", impl)
    ]
    for r in results:
        assert r.returncode == 0, r.stderr
    names = samples_of(results[0].stdout)
    assert len(names) == 6 and len(set(names)) > 1
    assert samples_of(results[1].stdout) == names
    # torch says where it computes; the others have nothing to say.
    said = "microgpt: torch on cpu, in float64"
    assert (said in results[1].stderr) == (impl == "torch")
    assert said not in results[0].stderr


def test_sample_seeds_and_temperature_change_the_names(trained):
    model = str(trained[2])
    base = microgpt("sample", "--load", model, "--impl", "scalar")
    seed = microgpt(
        "sample", "--load", model, "--impl", "scalar", "--seed", "5"
    )
    hot = microgpt(
        "sample", "--load", model, "--impl", "scalar", "--temperature", "2.0"
    )
    tcfg, scfg = TrainConfig(), SampleConfig()
    assert len(samples_of(base.stdout)) == scfg.num_samples
    assert samples_of(seed.stdout) != samples_of(base.stdout)
    # the temperature is used, not only accepted: the names are those
    # drawn in-process at 2.0 from the same seed
    weights, cfg, tokenizer = checkpoint.load(model)
    expected = train.sample(
        gpt_scalar,
        gpt_scalar.from_weights(weights),
        tokenizer,
        cfg,
        random.Random(tcfg.seed),
        2.0,
        scfg.num_samples,
    )
    assert samples_of(hot.stdout) == expected != samples_of(base.stdout)


# -- help ---------------------------------------------------------------------


def option_help(text, flag):
    """The help text of one option, whitespace collapsed."""
    lines = text.splitlines()
    start = next(
        i
        for i, ln in enumerate(lines)
        if ln.lstrip().startswith(flag + " ") or ln.strip() == flag
    )
    end = next(
        (
            i
            for i in range(start + 1, len(lines))
            if lines[i].lstrip().startswith("-")
        ),
        len(lines),
    )
    return " ".join(" ".join(lines[start:end]).split())


def test_train_help_lists_every_option_with_its_default():
    result = microgpt("train", "--help")
    assert result.returncode == 0
    options = options_.MODEL_OPTIONS + options_.TRAIN_OPTIONS
    options += options_.SAMPLE_OPTIONS
    configured = {name for _, name, _ in options}
    # every config field has an option, but vocab_size (the data's)
    assert configured == {
        f.name
        for cls in (ModelConfig, TrainConfig, SampleConfig)
        for f in fields(cls)
    } - {"vocab_size"}
    defaults = {**vars(ModelConfig()), **vars(SampleConfig())}
    defaults.update(vars(TrainConfig()))
    for flag, name, _ in options:
        if defaults[name] is not None:
            assert f"(default: {defaults[name]})" in option_help(
                result.stdout, flag
            ), flag
    for flag in (
        "--impl",
        "--val-fraction",
        "--nproc",
    ):
        assert "(default: " in option_help(result.stdout, flag), flag
    # an option without a default says what leaving it out does
    for flag in ("--device", "--dtype", "--data", "--save", "--backend"):
        assert "(by default " in option_help(result.stdout, flag), flag
    assert "(default: numpy)" in option_help(result.stdout, "--impl")
    # the bound on a batch, and what a large one gets, are documented
    assert (
        "at most as many as the dataset has; a step of over 1 GFLOP "
        "is announced" in option_help(result.stdout, "--batch-size")
    )


@pytest.mark.parametrize("command", ["train", "sample"])
def test_no_option_shows_a_default_of_none(command):
    # None is nothing a user can type: the help says it in words.
    result = microgpt(command, "--help")
    assert result.returncode == 0
    assert "None" not in result.stdout


def test_sample_help_lists_every_option_with_its_default():
    result = microgpt("sample", "--help")
    assert result.returncode == 0
    scfg = SampleConfig()
    for flag, default in [
        ("--num-samples", scfg.num_samples),
        ("--temperature", scfg.temperature),
        ("--seed", TrainConfig().seed),
        ("--impl", "numpy"),
    ]:
        assert f"(default: {default})" in option_help(result.stdout, flag)
    assert "--load" in result.stdout


# -- usage errors exit 2 (the rest of bad input is in the next part) ---------


def assert_usage_error(result, fragment):
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("microgpt") and "error:" in last
    assert fragment in last


@pytest.mark.parametrize(
    "args, fragment",
    [
        ([], "required"),
        (["fly"], "invalid choice"),
        (["train", "--bogus"], "unrecognized arguments: --bogus"),
        (["train", "--steps", "many"], "invalid int value: 'many'"),
        (["train", "--lr", "fast"], "invalid float value: 'fast'"),
        (["train", "--impl", "jax"], "invalid choice: 'jax'"),
        (["train", "--dtype", "float16"], "invalid choice: 'float16'"),
        (["sample"], "--load"),
    ],
)
def test_bad_arguments_are_usage_errors(args, fragment):
    assert_usage_error(microgpt(*args), fragment)


# -- bad input: one line, before any work ------------------------------------


@pytest.fixture(scope="module")
def model(tmp_path_factory, docs):
    """A small checkpoint to sample from."""
    run = train.run(
        "numpy",
        docs,
        ModelConfig(n_embd=8, n_head=2),
        TrainConfig(num_steps=2),
        SampleConfig(num_samples=1),
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


# -- outputs: no user's file destroyed, no result lost -----------------------


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
