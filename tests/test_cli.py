"""The command line, run as a user would: python -m microgpt ..."""

import json
import random
import subprocess
import sys
from dataclasses import fields

import pytest
from cli_run import microgpt, samples_of

from microgpt import checkpoint, data, gpt_scalar, train
from microgpt import options as options_
from microgpt.config import ModelConfig, SampleConfig, TrainConfig

pytestmark = pytest.mark.cli

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
SMALL_TRAIN = TrainConfig(num_steps=4, seed=3, num_samples=5, temperature=0.9)


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
    expected = train.run("scalar", docs, SMALL_MODEL, SMALL_TRAIN)
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
    batched = TrainConfig(
        num_steps=4, seed=3, num_samples=5, temperature=0.9, batch_size=16
    )
    expected = train.run(impl, docs, SMALL_MODEL, batched)
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
    tcfg = TrainConfig()
    assert len(samples_of(base.stdout)) == tcfg.num_samples
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
        tcfg.num_samples,
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


# -- usage errors exit 2 (the rest of bad input: test_cli_errors) -------------


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
