"""The command line on running text: train --text, its checkpoints."""

import json
import random

import numpy as np
import pytest
from cli_run import assert_one_line_error, microgpt

from microgpt import checkpoint, cli, gpt_numpy, text
from microgpt.bpe import BPE
from microgpt.config import ModelConfig

pytestmark = pytest.mark.data

SMALL = [
    "--steps",
    "3",
    "--n-embd",
    "8",
    "--n-head",
    "2",
    "--block-size",
    "8",
    "--num-samples",
    "2",
    "--sample-length",
    "5",
]


@pytest.fixture
def poem(tmp_path):
    path = tmp_path / "poem.txt"
    path.write_text(
        "Shall I compare thee to a summer's day?\n" * 20, encoding="utf-8"
    )
    return path


def run(capsys, *args):
    """cli.main in this process: (status, stdout, stderr)."""
    status = cli.main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def passages(stdout):
    """The samples printed under their '--- sample i ---' rules."""
    parts = stdout.split("--- sample ")[1:]
    return [p.split(" ---\n", 1)[1].removesuffix("\n") for p in parts]


def test_training_on_the_corpus_saves_what_it_was_trained_on(capsys, tmp_path):
    save = tmp_path / "text.npz"
    status, out, err = run(
        capsys,
        "train",
        "--text",
        *SMALL,
        "--val-fraction",
        "0.01",
        "--save",
        str(save),
    )
    assert status == 0, err
    assert "text: tinyshakespeare.txt, 1115394 characters" in out
    assert "tokens: chars, vocab size 65" in out
    assert "held out: the last 11154 characters" in out
    assert "step 0: held-out loss" in out and "bits per character" in out
    samples = passages(out)
    assert len(samples) == 2
    assert all(s.startswith("\n") and len(s) == 6 for s in samples)
    record = checkpoint.corpus(save)
    assert record == {
        "name": "tinyshakespeare.txt",
        "sha256": text.TEXT.sha256,
        "characters": 1115394,
        "held_out_fraction": 0.01,
    }
    weights, cfg, tokenizer = checkpoint.load(save)
    assert isinstance(tokenizer, text.CharTokenizer)
    assert cfg.vocab_size == 65 == tokenizer.vocab_size
    # Sampling the saved model gives the prompt and its continuation,
    # the same for the same seed and for another twin.
    args = [
        "sample",
        "--load",
        str(save),
        "--num-samples",
        "1",
        "--sample-length",
        "12",
        "--prompt",
        "ROMEO:",
    ]
    status, out, err = run(capsys, *args)
    assert status == 0, err
    assert "trained on tinyshakespeare.txt" in err
    (sample,) = passages(out)
    assert sample.startswith("ROMEO:") and len(sample) == 18
    assert run(capsys, *args, "--impl", "scalar")[1] == out


def test_bpe_tokens_are_learned_and_saved(capsys, poem, tmp_path):
    save = tmp_path / "bpe.npz"
    status, out, err = run(
        capsys,
        "train",
        "--text",
        str(poem),
        *SMALL,
        "--tokens",
        "bpe",
        "--vocab-size",
        "280",
        "--save",
        str(save),
        "--log",
        str(tmp_path / "log.jsonl"),
    )
    assert status == 0, err
    assert "tokens: bpe, vocab size 280" in out
    _, cfg, tokenizer = checkpoint.load(save)
    assert isinstance(tokenizer, BPE) and tokenizer.vocab_size == 280
    assert tokenizer.merges == BPE.train(poem.read_text(), 280).merges
    assert checkpoint.corpus(save)["name"] == "poem.txt"
    lines = (tmp_path / "log.jsonl").read_text().splitlines()
    assert [json.loads(x)["step"] for x in lines] == [1, 2, 3]


def test_a_name_model_still_saves_and_samples_names(capsys, tmp_path):
    save = tmp_path / "names.npz"
    status, _, err = run(
        capsys,
        "train",
        "--steps",
        "2",
        "--num-samples",
        "1",
        "--save",
        str(save),
    )
    assert status == 0, err
    assert checkpoint.corpus(save) is None
    _, _, tokenizer = checkpoint.load(save)
    assert tokenizer.bos == 26
    status, out, _ = run(
        capsys, "sample", "--load", str(save), "--num-samples", "3"
    )
    assert status == 0 and out.count("sample ") == 3


def test_the_same_seed_trains_the_same_model(capsys, poem, tmp_path):
    a, b = tmp_path / "a.npz", tmp_path / "b.npz"
    for path in (a, b):
        assert (
            run(
                capsys,
                "train",
                "--text",
                str(poem),
                *SMALL,
                "--batch-size",
                "3",
                "--save",
                str(path),
            )[0]
            == 0
        )
    wa, wb = checkpoint.load(a)[0], checkpoint.load(b)[0]
    assert all(np.array_equal(wa[k], wb[k]) for k in wa)


@pytest.mark.parametrize(
    "args, fragments",
    [
        (["--tokens", "bpe"], ["--tokens needs --text"]),
        (
            ["--sample-length", "9", "--prompt", "x"],
            ["--sample-length and --prompt need --text"],
        ),
        (["--text", "--data", "x.txt"], ["either --data", "or --text"]),
        (
            ["--text", "--vocab-size", "600"],
            ["--vocab-size needs --tokens bpe"],
        ),
        (
            ["--text", "--tokens", "bpe", "--vocab-size", "256"],
            ["at least 257"],
        ),
        (["--text", "--prompt", ""], ["--prompt is empty"]),
        (["--text", "--prompt", "\u03a9"], ["--prompt", "not in the vocab"]),
        (["--text", "--sample-length", "0"], ["--sample-length must be"]),
        (["--text", "--val-fraction", "0.9999999"], ["--val-fraction"]),
        (["--text", "--block-size", "2000000"], ["fewer than one window"]),
        (["--text", "/nonexistent/x.txt"], ["not found", "/nonexistent"]),
    ],
)
def test_bad_text_options_give_one_line(args, fragments):
    assert_one_line_error(microgpt("train", *args), *fragments)


def test_a_wrong_corpus_in_the_environment_gives_one_line(tmp_path):
    wrong = tmp_path / "input.txt"
    wrong.write_text("not Shakespeare\n", encoding="utf-8")
    result = microgpt("train", "--text", env={"MICROGPT_TEXT": str(wrong)})
    assert_one_line_error(result, "MICROGPT_TEXT", text.TEXT.sha256, "--text")


def test_text_options_on_a_name_model_give_one_line(capsys, tmp_path):
    save = tmp_path / "names.npz"
    assert (
        run(
            capsys,
            "train",
            "--steps",
            "1",
            "--num-samples",
            "1",
            "--save",
            str(save),
        )[0]
        == 0
    )
    status, out, err = run(
        capsys, "sample", "--load", str(save), "--prompt", "a"
    )
    assert status == 1 and out == ""
    assert err.startswith(
        "microgpt: error: --prompt applies to a model of running text"
    )


def test_a_damaged_text_tokenizer_is_a_checkpoint_error(tmp_path, poem):
    tok = text.CharTokenizer.from_text(poem.read_text())
    cfg = ModelConfig(vocab_size=tok.vocab_size)
    weights = gpt_numpy.to_weights(
        gpt_numpy.init_params(cfg, random.Random(0))
    )
    path = checkpoint.save(tmp_path / "t.npz", weights, cfg, tok)
    assert checkpoint.load(path)[2] == tok
    bad = BPE(((97, 98),))
    with pytest.raises(checkpoint.CheckpointError, match="ids"):
        checkpoint.save(tmp_path / "u.npz", weights, cfg, bad)


def test_top_k_1_continues_text_greedily(capsys, poem, tmp_path):
    save = tmp_path / "greedy.npz"
    assert (
        run(capsys, "train", "--text", str(poem), *SMALL, "--save", str(save))[
            0
        ]
        == 0
    )
    outs = [
        run(
            capsys,
            "sample",
            "--load",
            str(save),
            "--top-k",
            "1",
            "--seed",
            str(seed),
            "--num-samples",
            "1",
        )[1]
        for seed in (1, 2)
    ]
    assert outs[0] == outs[1] and len(passages(outs[0])[0]) == 201
