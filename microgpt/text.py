"""Running text: the Tiny Shakespeare corpus, its windows and samples.

The names are a list of documents, each framed by BOS. Running text is
one long stream with no document boundaries, so nothing marks a start
or an end: the vocabulary holds the text's characters and nothing else,
and the model learns from windows cut anywhere in the stream, as in
nanoGPT. A window of block_size + 1 tokens is a document to the twins'
batch functions: block_size inputs, each predicting the token after it.
"""

import math
import random
from dataclasses import dataclass

import numpy as np

from .batch import mean_loss
from .bpe import BPE
from .config import SampleConfig
from .data import (
    DataError,
    Pinned,
    Tokenizer,
    check_fraction,
    resolve_data_path,
)
from .gpt_numpy import top_filter
from .train import (
    Run,
    check_eval_every,
    check_finite,
    eval_due,
    get_twin,
    lr_at,
)

# Karpathy's char-rnn corpus: 40,000 lines of Shakespeare's plays.
TEXT = Pinned(
    "tinyshakespeare.txt",
    "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/"
    "tinyshakespeare/input.txt",
    "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed",
    "MICROGPT_TEXT",
    "--text",
    "a text file",
)


def resolve_text_path(path=None):
    """Find the corpus: the argument, $MICROGPT_TEXT, the cache, or the web.

    Each place is tried in that order, as data.resolve_data_path does for
    the names.
    """
    return resolve_data_path(path, TEXT)


def load_text(path=None):
    """Return the whole corpus as one string, exactly as the file holds it."""
    path = resolve_text_path(path)
    try:
        with open(path, encoding="utf-8", newline="") as f:
            text = f.read()
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text: {e}") from e
    if not text:
        raise DataError(f"the text is empty: {path}")
    return text


def split_text(text, fraction):
    """Split text into (head, tail), the tail holding out a fraction of it.

    The tail is the last round(fraction * len(text)) characters.

    The held-out part is the end of the text, one piece, rather than
    scattered windows: a window drawn from the head then never overlaps
    the held-out text.
    """
    check_fraction(fraction)
    n_val = round(fraction * len(text))
    if n_val < 2 or n_val > len(text) - 2:
        raise ValueError(
            f"holding out {fraction:g} of {len(text)} "
            f"characters leaves fewer than 2 on one side"
        )
    return text[:-n_val], text[-n_val:]


@dataclass(frozen=True)
class CharTokenizer:
    """Characters to ids 0..n-1 in sorted order, with no BOS id.

    Running text has no documents to frame, so its vocabulary is its
    characters alone.
    """

    chars: tuple  # the sorted unique characters

    @classmethod
    def from_text(cls, text):
        """Build the vocabulary from every character in text."""
        return cls(tuple(sorted(set(text))))

    @property
    def vocab_size(self):
        """The number of ids, one per character."""
        return len(self.chars)

    # A stream has no BOS, so only vocab_size differs from the names'
    # tokenizer; encode and decode read nothing but chars, so both
    # tokenizers share one implementation of each.
    encode = Tokenizer.encode
    decode = Tokenizer.decode

    def to_json(self):
        """What a checkpoint stores to rebuild this tokenizer."""
        return {"kind": "chars", "chars": "".join(self.chars)}


def tokenizer_from_json(meta):
    """Rebuild a CharTokenizer or a BPE tokenizer from its to_json."""
    kind = meta.get("kind")
    if kind == "chars":
        chars = meta["chars"]
        if not isinstance(chars, str) or list(chars) != sorted(set(chars)):
            raise ValueError(
                "the tokenizer's characters are not sorted unique characters"
            )
        return CharTokenizer(tuple(chars))
    if kind == "bpe":
        return BPE.from_json(meta)
    raise ValueError(f"unknown tokenizer kind {kind!r}")


def windows(ids, block_size, batch_size, rng):
    """Draw batch_size windows of block_size + 1 tokens at random starts.

    Each start is drawn uniformly from every place a whole window fits,
    as nanoGPT's get_batch does; the window's first block_size tokens are
    the inputs and its last block_size the targets. rng is a
    random.Random, so one seed gives the same windows every time.
    """
    last = len(ids) - block_size - 1  # the last start that fits
    if last < 0:
        raise ValueError(
            f"a text of {len(ids)} tokens is too short for "
            f"windows of {block_size + 1}"
        )
    starts = [rng.randint(0, last) for _ in range(batch_size)]
    return [list(ids[s : s + block_size + 1]) for s in starts]


def eval_windows(ids, block_size):
    """Cut ids into windows that predict every token but the first once.

    Consecutive windows of block_size + 1 tokens that overlap by one
    token: each window's last token is the next one's first input.
    The last window may be shorter.
    """
    if len(ids) < 2:
        raise ValueError("a held-out text needs at least 2 tokens")
    return [
        list(ids[s : s + block_size + 1])
        for s in range(0, len(ids) - 1, block_size)
    ]


def total_nats(impl, params, ids, cfg):
    """Return the sum of -ln p over every predicted token, and their count.

    Every token of ids but the first is predicted, each once, by the
    windows eval_windows cuts.
    """
    wins = eval_windows(ids, cfg.block_size)
    count = len(ids) - 1
    return mean_loss(impl.batch_loss, params, wins, cfg) * count, count


def bits_per_char(nats, n_chars):
    """Convert a text's total loss in nats to bits per character."""
    return nats / (math.log(2) * n_chars)


def _floats(logits):
    """Copy a twin's logits into a float64 array.

    NumPy and torch logits have tolist; the scalar twin's are Values,
    whose numbers are in .data.
    """
    if hasattr(logits, "tolist"):
        return np.array(logits.tolist(), dtype=np.float64)
    return np.array([v.data for v in logits], dtype=np.float64)


def generate(
    impl,
    params,
    cfg,
    prompt,
    length,
    rng,
    temperature,
    *,
    top_k=None,
    top_p=None,
):
    """Continue prompt (ids) by length ids drawn from the model with rng.

    The context is the last block_size ids: once the text is longer, the
    key-value cache is rebuilt from them for every new id, so each id is
    drawn given at most block_size ids before it, as in training.
    top_k and top_p filter each draw as the twins' generate does.
    """
    if not prompt:
        raise ValueError("a running text needs a prompt of at least 1 id")
    out = list(prompt)
    # The cache holds the keys and values of out[:fed].
    cache, fed = impl.new_kv_cache(cfg), 0
    for _ in range(length):
        # A context longer than block_size restarts the cache from the
        # last block_size ids.
        if len(out) > cfg.block_size:
            cache, fed = impl.new_kv_cache(cfg), 0
            context = out[-cfg.block_size :]
        else:
            context = out
        for pos in range(fed, len(context)):
            logits = impl.gpt(context[pos], pos, cache, params, cfg)
        fed = len(context)
        z = _floats(logits) / temperature
        p = np.exp(z - z.max())
        p /= p.sum()
        if top_k is not None or top_p is not None:
            p = top_filter(p, top_k, top_p)
        out.append(rng.choices(range(cfg.vocab_size), weights=p.tolist())[0])
    return out[len(prompt) :]


def held_out(tokenizer, val_text):
    """Encode val_text; return its ids and how many characters they predict.

    Every id but the first is predicted; the characters are those of the
    text after the first token, the same for any tokenizer up to the
    length of that first token.
    """
    ids = tokenizer.encode(val_text)
    return ids, len(val_text) - len(tokenizer.decode(ids[:1]))


def train(twin, params, ids, cfg, tcfg, rng):
    """Train params in place on windows of ids, yielding after each step.

    Step s draws tcfg.batch_size windows from rng, takes one Adam step
    on them and yields (s, loss), as train.train does for documents; it
    raises train.Diverged if the loss is infinite or NaN.
    """
    opt = twin.Adam(params, tcfg)
    for step in range(1, tcfg.num_steps + 1):
        batch = windows(ids, cfg.block_size, tcfg.batch_size, rng)
        lr = lr_at(step - 1, tcfg)
        try:
            loss = float(twin.train_step(params, opt, batch, lr, cfg))
        except ArithmeticError:
            # The scalar twin raises this where its floats overflow: the
            # step has diverged, as an infinite loss would say.
            loss = math.nan
        check_finite(step, loss)
        yield step, loss


def held_out_loss(twin, params, val_ids, n_chars, cfg):
    """(loss per token, bits per character) on a held-out text.

    val_ids and n_chars are what held_out returns for that text.
    """
    nats, count = total_nats(twin, params, val_ids, cfg)
    return nats / count, bits_per_char(nats, n_chars)


def passages(
    twin,
    params,
    tokenizer,
    cfg,
    rng,
    prompt,
    length,
    temperature,
    num_samples,
    *,
    top_k=None,
    top_p=None,
):
    """Sample num_samples texts, each the prompt continued by length ids.

    The ids are drawn with rng as generate draws them; each text starts
    with the prompt's own characters.
    """
    return [
        tokenizer.decode(
            prompt
            + generate(
                twin,
                params,
                cfg,
                prompt,
                length,
                rng,
                temperature,
                top_k=top_k,
                top_p=top_p,
            )
        )
        for _ in range(num_samples)
    ]


def run(
    twin,
    train_text,
    tokenizer,
    cfg,
    tcfg,
    sampling=SampleConfig(),
    *,
    val_text=None,
    eval_every=0,
    sample_length=200,
    prompt="\n",
    **device,
):
    """Train on windows of train_text, then sample running text.

    tcfg says how to train and sampling how to draw the passages, each
    sample_length ids after the prompt.

    One random stream, seeded with tcfg.seed, draws the initial weights,
    then every step's tcfg.batch_size windows, then the samples. With
    val_text, the loss on it is measured before training, every
    eval_every steps (0: never in between) and after the last step, and
    Run.val_losses keeps (step, loss per token, bits per character).
    twin is a twin's name or the twin itself, and device (torch only)
    its device and dtype.
    """
    twin = get_twin(twin) if isinstance(twin, str) else twin
    check_eval_every(eval_every)
    if cfg.vocab_size != tokenizer.vocab_size:
        raise ValueError(
            f"the model has vocab_size {cfg.vocab_size} but "
            f"the tokenizer {tokenizer.vocab_size} ids"
        )
    ids = tokenizer.encode(train_text)
    # Encoding the prompt now makes a bad prompt fail before training.
    start = tokenizer.encode(prompt)
    if not start:
        raise ValueError("the prompt is empty: give at least one character")
    if val_text is not None:
        val_ids, n_chars = held_out(tokenizer, val_text)
    rng = random.Random(tcfg.seed)
    params = twin.init_params(cfg, rng, **device)
    losses, val_losses = [], []
    if val_text is not None:
        val_losses.append(
            (0, *held_out_loss(twin, params, val_ids, n_chars, cfg))
        )
    for step, loss in train(twin, params, ids, cfg, tcfg, rng):
        losses.append(loss)
        if val_text is not None and eval_due(step, eval_every, tcfg.num_steps):
            val_losses.append(
                (step, *held_out_loss(twin, params, val_ids, n_chars, cfg))
            )
    samples = passages(
        twin,
        params,
        tokenizer,
        cfg,
        rng,
        start,
        sample_length,
        sampling.temperature,
        sampling.num_samples,
        top_k=sampling.top_k,
        top_p=sampling.top_p,
    )
    return Run(params, tokenizer, cfg, losses, samples, val_losses)
