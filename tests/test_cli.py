"""The command line, run as a user would: python -m microgpt ..."""

import json
import os
import random
import subprocess
import sys
from dataclasses import fields

import pytest

from microgpt import checkpoint, cli, gpt_scalar, train
from microgpt.config import ModelConfig, TrainConfig

pytestmark = pytest.mark.cli

# A small, quick model and run; the same flags drive the in-process check.
SMALL = ["--n-layer", "2", "--n-embd", "8", "--n-head", "2",
         "--block-size", "8", "--steps", "4", "--seed", "3",
         "--num-samples", "5", "--temperature", "0.9"]
SMALL_MODEL = ModelConfig(n_layer=2, n_embd=8, n_head=2, block_size=8)
SMALL_TRAIN = TrainConfig(num_steps=4, seed=3, num_samples=5,
                          temperature=0.9)


def microgpt(*args, env=None):
    """Run the command line in a fresh interpreter."""
    return subprocess.run([sys.executable, "-m", "microgpt", *args],
                          capture_output=True, text=True, timeout=300,
                          env={**os.environ, **(env or {})})


def samples_of(stdout):
    return [line.split(": ", 1)[1] for line in stdout.splitlines()
            if line.startswith("sample ")]


@pytest.fixture(scope="module")
def trained(tmp_path_factory, docs):
    """One CLI training run with --log and --save, and the same run made
    in-process through train.run."""
    folder = tmp_path_factory.mktemp("cli")
    log, model = folder / "log.jsonl", folder / "model.npz"
    result = microgpt("train", "--impl", "scalar", *SMALL,
                      "--log", str(log), "--save", str(model))
    expected = train.run("scalar", docs, SMALL_MODEL, SMALL_TRAIN)
    return result, log, model, expected


# -- train and sample ---------------------------------------------------------


def test_train_prints_the_originals_summary_then_samples(trained, docs):
    result, _, _, expected = trained
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"num docs: {len(docs)}"
    assert lines[1] == f"vocab size: {expected.tokenizer.vocab_size}"
    n = sum(len(r) * len(r[0]) for r in
            train.get_impl("scalar").to_weights(expected.params).values())
    assert lines[2] == f"num params: {n}"
    assert lines[-5] == f"sample  1: {expected.samples[0]}"
    assert samples_of(result.stdout) == expected.samples


def test_the_default_run_is_the_originals(tmp_path, expected_run):
    log = tmp_path / "log.jsonl"
    result = microgpt("train", "--log", str(log))  # numpy, all defaults
    assert result.returncode == 0, result.stderr
    assert samples_of(result.stdout) == expected_run["samples"]
    losses = [json.loads(line)["loss"] for line in
              log.read_text().splitlines()]
    assert losses == pytest.approx(expected_run["losses"], rel=1e-12)


@pytest.mark.parametrize("impl", ["numpy", "torch"])
def test_batched_training_runs_and_logs_each_step(impl, tmp_path, docs):
    log = tmp_path / "log.jsonl"
    result = microgpt("train", "--impl", impl, *SMALL, "--batch-size", "16",
                      "--log", str(log))
    assert result.returncode == 0, result.stderr
    batched = TrainConfig(num_steps=4, seed=3, num_samples=5,
                          temperature=0.9, batch_size=16)
    expected = train.run(impl, docs, SMALL_MODEL, batched)
    losses = [json.loads(line)["loss"] for line in log.read_text()
              .splitlines()]
    assert losses == expected.losses  # the same run, in-process
    assert samples_of(result.stdout) == expected.samples


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


@pytest.mark.parametrize("impl", train.IMPLS)
def test_sample_from_the_saved_model_with_any_implementation(trained,
                                                             impl):
    model = trained[2]
    results = [microgpt("sample", "--load", str(model), "--impl", name,
                        "--num", "6", "--seed", "11")
               for name in ("scalar", impl)]
    for r in results:
        assert r.returncode == 0, r.stderr
    names = samples_of(results[0].stdout)
    assert len(names) == 6 and len(set(names)) > 1
    assert samples_of(results[1].stdout) == names


def test_sample_seeds_and_temperature_change_the_names(trained):
    model = str(trained[2])
    base = microgpt("sample", "--load", model, "--impl", "scalar")
    seed = microgpt("sample", "--load", model, "--impl", "scalar",
                    "--seed", "5")
    hot = microgpt("sample", "--load", model, "--impl", "scalar",
                   "--temperature", "2.0")
    tcfg = TrainConfig()
    assert len(samples_of(base.stdout)) == tcfg.num_samples
    assert samples_of(seed.stdout) != samples_of(base.stdout)
    # the temperature is used, not only accepted: the names are those
    # drawn in-process at 2.0 from the same seed
    weights, mcfg, tokenizer = checkpoint.load(model)
    expected = train.sample(gpt_scalar, gpt_scalar.from_weights(weights),
                            tokenizer, mcfg, random.Random(tcfg.seed), 2.0,
                            tcfg.num_samples)
    assert samples_of(hot.stdout) == expected != samples_of(base.stdout)


# -- help ---------------------------------------------------------------------


def option_help(text, flag):
    """The help text of one option, whitespace collapsed."""
    lines = text.splitlines()
    start = next(i for i, ln in enumerate(lines)
                 if ln.lstrip().startswith(flag + " ")
                 or ln.strip() == flag)
    end = next((i for i in range(start + 1, len(lines))
                if lines[i].lstrip().startswith("-")), len(lines))
    return " ".join(" ".join(lines[start:end]).split())


def test_train_help_lists_every_option_with_its_default():
    result = microgpt("train", "--help")
    assert result.returncode == 0
    options = cli.MODEL_OPTIONS + cli.TRAIN_OPTIONS
    configured = {name for _, name, _ in options}
    # every config field has an option, but vocab_size (the data's)
    assert configured == {f.name for f in fields(ModelConfig)
                          + fields(TrainConfig)} - {"vocab_size"}
    defaults = {**vars(ModelConfig()), **vars(TrainConfig())}
    for flag, name, _ in options:
        assert f"(default: {defaults[name]})" in \
            option_help(result.stdout, flag), flag
    for flag in ("--impl", "--device", "--dtype", "--data", "--save",
                 "--log"):
        assert "(default: " in option_help(result.stdout, flag), flag
    assert "(default: numpy)" in option_help(result.stdout, "--impl")


def test_sample_help_lists_every_option_with_its_default():
    result = microgpt("sample", "--help")
    assert result.returncode == 0
    tcfg = TrainConfig()
    for flag, default in [("--num", tcfg.num_samples),
                          ("--temperature", tcfg.temperature),
                          ("--seed", tcfg.seed), ("--impl", "numpy")]:
        assert f"(default: {default})" in option_help(result.stdout, flag)
    assert "--load" in result.stdout


# -- bad input: one line on stderr, no traceback, exit != 0 -------------------


def assert_usage_error(result, fragment):
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("microgpt") and "error:" in last
    assert fragment in last


@pytest.mark.parametrize("args, fragment", [
    ([], "required"),
    (["fly"], "invalid choice"),
    (["train", "--bogus"], "unrecognized arguments: --bogus"),
    (["train", "--steps", "many"], "invalid int value: 'many'"),
    (["train", "--lr", "fast"], "invalid float value: 'fast'"),
    (["train", "--impl", "jax"], "invalid choice: 'jax'"),
    (["train", "--dtype", "float16"], "invalid choice: 'float16'"),
    (["sample"], "--load"),
])
def test_bad_arguments_are_usage_errors(args, fragment):
    assert_usage_error(microgpt(*args), fragment)


def assert_one_line_error(result, *fragments):
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stdout == ""  # nothing printed before the error
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("microgpt: error: ")
    for fragment in fragments:
        assert fragment in lines[0]


@pytest.mark.parametrize("args, fragments", [
    (["--n-head", "3"],
     ["--n-embd (16) must be divisible by --n-head (3)"]),
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
    (["--impl", "scalar", "--dtype", "float32"], ["--dtype", "torch only"]),
    (["--impl", "torch", "--device", "warp9"], ["bad --device 'warp9'"]),
    (["--impl", "torch", "--device", "cuda:99"], ["--device cuda:99"]),
    (["--impl", "scalar", "--batch-size", "4"], ["--batch-size 4"]),
    (["--save", "/nonexistent/dir/m.npz"], ["--save", "does not exist"]),
    (["--log", "/nonexistent/dir/l.jsonl"], ["--log", "does not exist"]),
])
def test_bad_train_settings_give_one_line(args, fragments):
    assert_one_line_error(microgpt("train", *args), *fragments)


@pytest.mark.skipif(not os.path.exists("/dev/full"),
                    reason="needs Linux's /dev/full, a disk that is full")
def test_a_write_that_fails_midway_gives_one_line():
    # An OSError while training (here: the log's disk is full) is not a
    # bug in microgpt: one line, not a traceback.
    result = microgpt("train", "--steps", "2", "--log", "/dev/full")
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines()[-1].startswith(
        "microgpt: error: [Errno 28]")


def test_a_missing_package_gives_one_line(tmp_path):
    (tmp_path / "torch.py").write_text(
        "raise ImportError('torch is not installed here')\n")
    result = microgpt("train", "--impl", "torch", "--steps", "1",
                      env={"PYTHONPATH": str(tmp_path)})
    assert_one_line_error(result, "--impl torch needs a missing package",
                          "torch is not installed here")


def test_an_error_message_stays_on_one_line(capsys):
    cli._error("first line\nsecond line")
    assert capsys.readouterr().err == \
        "microgpt: error: first line second line\n"


def test_a_missing_dataset_gives_one_line(tmp_path):
    missing = tmp_path / "none.txt"
    assert_one_line_error(microgpt("train", "--data", str(missing)),
                          "not found", str(missing))
    assert_one_line_error(microgpt("train", env={"MICROGPT_DATA":
                                                 str(missing)}),
                          "MICROGPT_DATA", str(missing))


def test_an_empty_dataset_gives_one_line(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    assert_one_line_error(microgpt("train", "--data", str(empty)),
                          "empty", str(empty))


def test_a_corrupt_dataset_gives_one_line(tmp_path):
    corrupt = tmp_path / "names.txt"
    corrupt.write_text("emma\nolivia\n")
    assert_one_line_error(microgpt("train", env={"MICROGPT_DATA":
                                                 str(corrupt)}),
                          str(corrupt), "sha256")
    binary = tmp_path / "names.bin"
    binary.write_bytes(b"\xff\xfe\xfa")
    assert_one_line_error(microgpt("train", "--data", str(binary)),
                          "UTF-8")


@pytest.mark.parametrize("make, fragment", [
    (lambda p, good: None, "no such checkpoint file"),
    (lambda p, good: p.write_text("emma\n"), "not an .npz archive"),
    (lambda p, good: p.write_bytes(good.read_bytes()[:300]),
     "truncated or corrupt"),
], ids=["missing", "text", "truncated"])
def test_a_bad_checkpoint_gives_one_line(trained, tmp_path, make,
                                         fragment):
    path = tmp_path / "bad.npz"
    make(path, trained[2])
    assert_one_line_error(microgpt("sample", "--load", str(path)),
                          str(path), fragment)


@pytest.mark.parametrize("args, fragment", [
    (["--num", "0"], "--num must be a positive integer"),
    (["--temperature", "-1"], "--temperature must"),
    (["--impl", "scalar", "--device", "cpu"], "torch only"),
])
def test_bad_sample_settings_give_one_line(trained, args, fragment):
    assert_one_line_error(
        microgpt("sample", "--load", str(trained[2]), *args), fragment)
