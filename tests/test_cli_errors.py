"""The command line's bad input: one line on stderr, exit 1, no traceback.

Each refusal comes before any work: nothing is printed to stdout first.
"""

import os

import pytest
from cli_run import assert_one_line_error, microgpt

from microgpt import checkpoint, cli, train
from microgpt.config import ModelConfig, TrainConfig

pytestmark = pytest.mark.cli


@pytest.fixture(scope="module")
def model(tmp_path_factory, docs):
    """A small checkpoint to sample from."""
    run = train.run("numpy", docs, ModelConfig(n_embd=8, n_head=2),
                    TrainConfig(num_steps=2, num_samples=1))
    path = tmp_path_factory.mktemp("model") / "model.npz"
    return checkpoint.save(path, run.params, run.model_config,
                           run.tokenizer)


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
def test_a_bad_checkpoint_gives_one_line(model, tmp_path, make,
                                         fragment):
    path = tmp_path / "bad.npz"
    make(path, model)
    assert_one_line_error(microgpt("sample", "--load", str(path)),
                          str(path), fragment)


@pytest.mark.parametrize("args, fragment", [
    (["--num", "0"], "--num must be a positive integer"),
    (["--temperature", "-1"], "--temperature must"),
    (["--impl", "scalar", "--device", "cpu"], "torch only"),
])
def test_bad_sample_settings_give_one_line(model, args, fragment):
    assert_one_line_error(
        microgpt("sample", "--load", str(model), *args), fragment)
