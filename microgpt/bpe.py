"""Byte-level byte-pair encoding (BPE), from scratch.

A text is first its UTF-8 bytes, ids 0..255, so any string can be
encoded and nothing is ever out of the vocabulary. Training repeats one
step: count every pair of neighbouring ids, and give the most frequent
pair a new id, 256, 257, ...; that pair is a merge. Encoding applies the
merges in the order they were learned; decoding joins the bytes back.

As in GPT-2, the text is first cut into chunks (a word with the space
before it, a run of digits, of punctuation or of white space) and no
merge crosses a chunk's edge: a token then never spans two words. It also
makes training fast, since every distinct chunk is counted once, with
its frequency, and only the chunks that hold the merged pair are
counted again after a merge.
"""

import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

# Letters, digits, other symbols and underscores, each with an optional
# space before them; then white space. Every character is in exactly one
# class, so the chunks put together are the text again.
CHUNK = re.compile(r" ?[^\W\d_]+| ?\d+| ?[^\s\w]+| ?_+|\s+(?!\S)|\s+")


def chunks(text):
    """Cut text into the chunks that no merge crosses."""
    return CHUNK.findall(text)


def merge(ids, pair, new):
    """Replace each occurrence of pair in ids by new, left to right.

    Occurrences do not overlap: in (a, a, a), the pair (a, a) is merged
    once, at the start.
    """
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and (ids[i], ids[i + 1]) == pair:
            out.append(new)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def most_frequent(counts):
    """Return the pair with the highest count; a tie goes to smaller ids."""
    return max(counts, key=lambda p: (counts[p], -p[0], -p[1]))


def train(text, vocab_size):
    """Learn the merges that grow the 256 byte ids to vocab_size on text.

    Training stops early if no pair is left to merge, as in a tiny text.
    """
    if vocab_size < 256:
        raise ValueError(
            f"a byte-level vocabulary has at least 256 ids, "
            f"got vocab_size {vocab_size}"
        )
    freq = Counter(chunks(text))
    seqs = [list(c.encode("utf-8")) for c in freq]
    weight = list(freq.values())
    # counts maps each pair to its frequency, and where maps it to the
    # indices of the chunks that hold it.
    counts, where = Counter(), defaultdict(set)
    for i, s in enumerate(seqs):
        for pair in zip(s, s[1:]):
            counts[pair] += weight[i]
            where[pair].add(i)
    merges = []
    for new in range(256, vocab_size):
        counts = +counts  # unary + drops the pairs whose count is 0
        if not counts:
            break
        pair = most_frequent(counts)
        merges.append(pair)
        for i in where.pop(pair):
            old = seqs[i]
            for p in zip(old, old[1:]):
                counts[p] -= weight[i]
            seqs[i] = merge(old, pair, new)
            for p in zip(seqs[i], seqs[i][1:]):
                counts[p] += weight[i]
                where[p].add(i)
    return merges


@dataclass(frozen=True)
class BPE:
    """A byte-level BPE tokenizer: its merges, in the order learned."""

    merges: tuple  # (a, b) pairs; merge k makes id 256 + k
    # Derived from the merges once: each id's bytes, each merge's rank
    # (its position in the list) and the ids of every chunk seen so far.
    vocab: list = field(init=False, compare=False, repr=False)
    rank: dict = field(init=False, compare=False, repr=False)
    cache: dict = field(init=False, compare=False, repr=False)

    def __post_init__(self):
        vocab = [bytes([b]) for b in range(256)]
        for k, pair in enumerate(self.merges):
            if len(pair) != 2 or not all(
                isinstance(i, int) and 0 <= i < 256 + k for i in pair
            ):
                raise ValueError(
                    f"merge {k} must join two earlier ids, got {pair!r}"
                )
            vocab.append(vocab[pair[0]] + vocab[pair[1]])
        # A frozen dataclass sets its derived fields this way.
        object.__setattr__(self, "vocab", vocab)
        object.__setattr__(
            self, "rank", {p: k for k, p in enumerate(self.merges)}
        )
        object.__setattr__(self, "cache", {})

    @classmethod
    def train(cls, text, vocab_size):
        """Learn a tokenizer on text with the module's train function."""
        return cls(tuple(train(text, vocab_size)))

    @property
    def vocab_size(self):
        """How many ids there are, 256 bytes and one per merge."""
        return 256 + len(self.merges)

    def token_bytes(self, i):
        """Return the bytes that id i stands for."""
        return self.vocab[i]

    def encode_chunk(self, chunk):
        """Encode one chunk: its bytes, merged in the learned order."""
        if chunk not in self.cache:
            rank = self.rank
            ids = list(chunk.encode("utf-8"))
            while len(ids) > 1:
                # The earliest-learned merge among the neighbours first,
                # as in training.
                pair = min(
                    zip(ids, ids[1:]), key=lambda p: rank.get(p, len(rank))
                )
                if pair not in rank:
                    break
                ids = merge(ids, pair, 256 + rank[pair])
            self.cache[chunk] = ids
        return self.cache[chunk]

    def encode(self, text):
        """Encode text, chunk by chunk."""
        return [i for c in chunks(text) for i in self.encode_chunk(c)]

    def decode(self, ids):
        """Decode ids into text.

        A model may sample bytes that are not valid UTF-8; each such
        sequence becomes the replacement character U+FFFD.
        """
        vocab = self.vocab
        for i in ids:
            if not 0 <= i < len(vocab):
                raise ValueError(
                    f"id {i!r} is not a token id (0..{len(vocab) - 1})"
                )
        return b"".join(vocab[i] for i in ids).decode("utf-8", "replace")

    def to_json(self):
        """What a checkpoint stores to rebuild this tokenizer."""
        return {"kind": "bpe", "merges": [list(p) for p in self.merges]}

    @classmethod
    def from_json(cls, meta):
        """Rebuild the tokenizer that to_json described."""
        merges = meta.get("merges")
        if not isinstance(merges, list) or not all(
            isinstance(p, list) for p in merges
        ):
            raise ValueError("the BPE merges must be a list of pairs")
        return cls(tuple(tuple(p) for p in merges))
