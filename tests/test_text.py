"""Running text: the corpus is found and checked; windows and samples."""

import hashlib
import math
import os
import random
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from microgpt import data, gpt_numpy, gpt_scalar, text
from microgpt.config import ModelConfig, TrainConfig
from microgpt.data import DataError

pytestmark = pytest.mark.data


@pytest.fixture(scope="module")
def real_text():
    """The real Tiny Shakespeare, which every test run points to."""
    path = os.environ.get(text.TEXT.env_var)
    if not path:
        pytest.fail(f"set {text.TEXT.env_var} to tinyshakespeare.txt")
    return Path(path)


class Body:
    """What urlopen returns: the bytes of a file, in chunks."""

    def __init__(self, body):
        self.body, self.pos = body, 0

    def read(self, n):
        chunk = self.body[self.pos : self.pos + n]
        self.pos += len(chunk)
        return chunk

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


@pytest.fixture
def cache(monkeypatch, tmp_path):
    """An empty user cache, no MICROGPT_TEXT; downloads are recorded."""
    monkeypatch.delenv(text.TEXT.env_var, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    urls = []

    def refuse(url, timeout=None):
        urls.append(url)
        raise AssertionError("this test must not download")

    monkeypatch.setattr(urllib.request, "urlopen", refuse)
    return urls


# -- the corpus ---------------------------------------------------------------


def test_the_real_corpus_is_the_pinned_file(real_text):
    assert data.sha256_of(real_text) == text.TEXT.sha256
    assert (
        text.TEXT.sha256 == hashlib.sha256(real_text.read_bytes()).hexdigest()
    )
    assert text.TEXT.url.endswith("tinyshakespeare/input.txt")
    corpus = text.load_text()
    assert len(corpus) == 1115394
    assert corpus.startswith("First Citizen:\n")
    assert text.CharTokenizer.from_text(corpus).vocab_size == 65


def test_the_environment_variable_is_used_and_checked(
    cache, monkeypatch, tmp_path
):
    wrong = tmp_path / "input.txt"
    wrong.write_text("To be, or not to be\n", encoding="utf-8")
    monkeypatch.setenv("MICROGPT_TEXT", str(wrong))
    with pytest.raises(DataError) as e:
        text.load_text()
    msg = str(e.value)
    assert str(wrong) in msg and text.TEXT.sha256 in msg
    assert "MICROGPT_TEXT" in msg and "--text" in msg
    assert "tinyshakespeare.txt" in msg
    # A file of the user's own, given by path, is not checked.
    assert text.load_text(wrong) == "To be, or not to be\n"
    assert cache == []


def test_a_download_is_checked_and_cached(cache, monkeypatch, real_text):
    path = data.cache_path(text.TEXT)
    assert path.name == "tinyshakespeare.txt"
    monkeypatch.setattr(
        urllib.request,
        "urlopen",
        lambda url, timeout=None: Body(b"<html>404</html>"),
    )
    with pytest.raises(DataError, match="nothing was saved"):
        text.load_text()
    assert os.listdir(path.parent) == []  # no partial or temporary file
    urls = []

    def serve(url, timeout=None):
        urls.append(url)
        return Body(real_text.read_bytes())

    monkeypatch.setattr(urllib.request, "urlopen", serve)
    assert text.resolve_text_path() == path
    assert urls == [text.TEXT.url]
    assert text.load_text() == real_text.read_text(encoding="utf-8")
    assert urls == [text.TEXT.url]  # the second time from the cache
    path.write_text("corrupt", encoding="utf-8")
    with pytest.raises(DataError, match="delete this cached copy"):
        text.load_text()


def test_an_empty_or_binary_file_is_an_error(tmp_path):
    empty = tmp_path / "empty.txt"
    empty.write_text("", encoding="utf-8")
    with pytest.raises(DataError, match="empty"):
        text.load_text(empty)
    binary = tmp_path / "b.bin"
    binary.write_bytes(b"\xff\xfe")
    with pytest.raises(DataError, match="UTF-8"):
        text.load_text(binary)


def test_the_names_keep_their_own_file(cache, monkeypatch):
    # Generalising the download left the names' paths unchanged.
    assert data.cache_path().name == "names.txt"
    assert data.cache_path(text.TEXT).parent == data.cache_path().parent


# -- the split, the tokenizer, the windows ------------------------------------


def test_the_split_holds_out_the_tail():
    s = "".join(chr(97 + i % 26) for i in range(1000))
    head, tail = text.split_text(s, 0.1)
    assert head + tail == s and len(tail) == 100
    for bad in (0, 1, 1.5, -0.1, True, "0.1"):
        with pytest.raises(ValueError, match="between 0 and 1"):
            text.split_text(s, bad)
    with pytest.raises(ValueError, match="fewer than 2"):
        text.split_text("abc", 0.1)


def test_the_char_tokenizer_round_trips_and_has_no_bos():
    tok = text.CharTokenizer.from_text("hello, world\n")
    assert tok.vocab_size == len(set("hello, world\n"))
    assert tok.decode(tok.encode("low\n")) == "low\n"
    assert tok.encode("\n ,") == [0, 1, 2]  # sorted characters
    with pytest.raises(ValueError, match="'z' is not in the vocabulary"):
        tok.encode("z")
    with pytest.raises(ValueError, match="not a character id"):
        tok.decode([tok.vocab_size])
    assert text.tokenizer_from_json(tok.to_json()) == tok
    with pytest.raises(ValueError, match="unknown tokenizer"):
        text.tokenizer_from_json({"kind": "words"})
    with pytest.raises(ValueError, match="sorted unique"):
        text.tokenizer_from_json({"kind": "chars", "chars": "ba"})


def test_the_char_tokenizer_shares_the_names_tokenizers_code():
    chars = tuple(sorted(set("hello, world\n")))
    tok, names = text.CharTokenizer(chars), data.Tokenizer(chars)
    assert text.CharTokenizer.encode is data.Tokenizer.encode
    assert text.CharTokenizer.decode is data.Tokenizer.decode
    assert tok.encode("world") == names.encode("world")
    assert tok.vocab_size == names.vocab_size - 1  # a stream has no BOS


def test_windows_are_seeded_slices_within_the_text():
    ids = list(range(100))
    a = text.windows(ids, 8, 50, random.Random(3))
    b = text.windows(ids, 8, 50, random.Random(3))
    assert a == b
    assert a != text.windows(ids, 8, 50, random.Random(4))
    for w in a:
        assert len(w) == 9 and w == ids[w[0] : w[0] + 9]
    starts = {w[0] for w in text.windows(ids, 8, 2000, random.Random(0))}
    assert starts == set(range(92))  # every start that fits, and no other
    assert text.windows(ids, 99, 3, random.Random(0)) == [ids] * 3
    with pytest.raises(ValueError, match="too short"):
        text.windows(ids, 100, 1, random.Random(0))


def test_eval_windows_predict_every_token_once():
    ids = list(range(20))
    wins = text.eval_windows(ids, 8)
    assert wins == [ids[0:9], ids[8:17], ids[16:20]]
    targets = [t for w in wins for t in w[1:]]
    assert targets == ids[1:]
    with pytest.raises(ValueError, match="at least 2"):
        text.eval_windows([5], 8)


def test_the_twins_train_on_windows_without_bos():
    cfg = ModelConfig(vocab_size=5, n_embd=8, n_head=2, block_size=6)
    ids = [i % 5 for i in range(40)]
    batch = text.windows(ids, cfg.block_size, 3, random.Random(0))
    p_np = gpt_numpy.init_params(cfg, random.Random(1))
    p_sc = gpt_scalar.init_params(cfg, random.Random(1))
    loss_np = gpt_numpy.batch_loss(p_np, batch, cfg)
    loss_sc = gpt_scalar.batch_loss(p_sc, batch, cfg).data
    assert loss_np == pytest.approx(loss_sc, rel=1e-12)
    # A twin's mean over the windows is the mean of their own means:
    # every window has block_size predictions.
    each = [gpt_numpy.batch_loss(p_np, [w], cfg) for w in batch]
    assert loss_np == pytest.approx(np.mean(each), rel=1e-12)
    nats, count = text.total_nats(gpt_numpy, p_np, ids, cfg)
    assert count == 39
    direct = sum(
        gpt_numpy.batch_loss(p_np, [w], cfg) * (len(w) - 1)
        for w in text.eval_windows(ids, cfg.block_size)
    )
    assert nats == pytest.approx(direct, rel=1e-12)


def test_bits_per_char_divides_by_characters_in_base_2():
    assert text.bits_per_char(math.log(2) * 10, 10) == pytest.approx(1)
    assert text.bits_per_char(math.log(65) * 7, 7) == pytest.approx(
        math.log2(65)
    )


def test_generate_is_seeded_and_crops_its_context():
    cfg = ModelConfig(vocab_size=5, n_embd=8, n_head=2, block_size=4)
    params = gpt_numpy.init_params(cfg, random.Random(1))
    a = text.generate(gpt_numpy, params, cfg, [0], 12, random.Random(2), 1.0)
    b = text.generate(gpt_numpy, params, cfg, [0], 12, random.Random(2), 1.0)
    assert a == b and len(a) == 12 and all(0 <= i < 5 for i in a)
    sc = gpt_scalar.init_params(cfg, random.Random(1))
    assert (
        text.generate(gpt_scalar, sc, cfg, [0], 12, random.Random(2), 1.0) == a
    )
    with pytest.raises(ValueError, match="prompt"):
        text.generate(gpt_numpy, params, cfg, [], 3, random.Random(0), 1.0)


# -- a training run -----------------------------------------------------------


def test_a_run_is_seeded_measures_the_tail_and_samples_its_prompt():
    tok = text.CharTokenizer.from_text("abcd \n")
    head, tail = "abcd abcd\n" * 20, "abcd dcba\n" * 3
    cfg = ModelConfig(
        vocab_size=tok.vocab_size, n_embd=8, n_head=2, block_size=8
    )
    tcfg = TrainConfig(num_steps=6, batch_size=2, seed=3)
    runs = [
        text.run(
            "numpy",
            head,
            tok,
            cfg,
            tcfg,
            val_text=tail,
            eval_every=3,
            sample_length=5,
            prompt="ab",
        )
        for _ in range(2)
    ]
    a, b = runs
    assert a.losses == b.losses and a.samples == b.samples
    assert [s for s, _, _ in a.val_losses] == [0, 3, 6]
    for _, loss, bpc in a.val_losses:
        # One token per character: bits per character is loss / ln 2.
        assert bpc == pytest.approx(loss / math.log(2))
    assert a.val_losses[-1][1] < a.val_losses[0][1]
    assert all(s.startswith("ab") and len(s) == 7 for s in a.samples)
    with pytest.raises(ValueError, match="prompt is empty"):
        text.run("numpy", head, tok, cfg, tcfg, prompt="")
    with pytest.raises(ValueError, match="vocab_size"):
        text.run("numpy", head, tok, ModelConfig(), tcfg)


def test_a_diverging_run_says_so():
    tok = text.CharTokenizer.from_text("ab")
    cfg = ModelConfig(vocab_size=2, n_embd=8, n_head=2, block_size=4)
    tcfg = TrainConfig(num_steps=50, learning_rate=1e6)
    with pytest.raises(ValueError, match="diverged"):
        text.run("numpy", "ab" * 50, tok, cfg, tcfg, prompt="a")


def test_held_out_counts_the_characters_after_the_first_token():
    tok = text.CharTokenizer.from_text("hello")
    ids, n_chars = text.held_out(tok, "hello")
    assert ids == tok.encode("hello") and n_chars == 4
