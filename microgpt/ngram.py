"""Count-based n-gram models of names: the baselines a GPT is set against.

An n-gram model predicts each token from the n - 1 tokens before it, by
counting in the training names how often each token followed that
context. A name is framed with BOS on both sides, as the GPT sees it, and
the context of the first predictions is padded on the left with more BOS
tokens, so that every prediction the GPT makes is also made here: the
letters of the name and the closing BOS.

Add-alpha smoothing gives a token never seen after a context a small
probability instead of none: p(b | c) = (count(c, b) + alpha) /
(count(c) + alpha * n_vocab). A context never seen at all then gives the
uniform distribution.
"""

import math
from collections import Counter


def contexts(ids, n, bos):
    """List the (context, next token) pairs of one framed name, in order.

    ids is the framed name (BOS, letters, BOS); each context is the tuple
    of the n - 1 tokens before the next one, padded on the left with bos.
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n!r}")
    padded = [bos] * (n - 1) + list(ids)
    return [
        (tuple(padded[i : i + n - 1]), padded[i + n - 1])
        for i in range(1, len(ids))
    ]


def count(framed, n, bos):
    """Count each (context, token) pair and each context in framed names."""
    pairs, totals = Counter(), Counter()
    for ids in framed:
        for context, token in contexts(ids, n, bos):
            pairs[context, token] += 1
            totals[context] += 1
    return pairs, totals


def held_out_loss(train, val, n, alpha, n_vocab, bos):
    """Return the mean -ln p(next | context) over the val names.

    train and val are lists of framed names (lists of token ids). The
    counts come from train only; the mean is per prediction, so a long
    name weighs more than a short one, as in the twins' evaluate.
    """
    if not alpha > 0:
        raise ValueError(f"alpha must be positive, got {alpha!r}")
    pairs, totals = count(train, n, bos)
    total = 0.0
    predictions = 0
    for ids in val:
        for context, token in contexts(ids, n, bos):
            p = (pairs[context, token] + alpha) / (
                totals[context] + alpha * n_vocab
            )
            total -= math.log(p)
            predictions += 1
    if not predictions:
        raise ValueError("val holds no predictions")
    return total / predictions


def table(
    train_docs, val_docs, tokenizer, orders=(1, 2, 3, 4), alphas=(1.0, 0.1)
):
    """Measure the held-out loss of each order n and smoothing alpha.

    The result maps (n, alpha) to the loss.
    """
    train = [tokenizer.frame(d) for d in train_docs]
    val = [tokenizer.frame(d) for d in val_docs]
    return {
        (n, a): held_out_loss(
            train, val, n, a, tokenizer.vocab_size, tokenizer.bos
        )
        for n in orders
        for a in alphas
    }
