"""The names dataset and the character tokenizer."""

import hashlib
import http.client
import os
import random
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from . import outputs

# The exact file the original downloads: makemore pinned at commit 988aa59.
DATA_URL = (
    "https://raw.githubusercontent.com/karpathy/makemore/988aa59/names.txt"
)
DATA_SHA256 = (
    "0a30b5557f192f32ab962680889aac5f6fda0f4cecf40a6d0b5694f58ea8cc4d"
)
ENV_VAR = "MICROGPT_DATA"
# The held-out names are drawn from their own stream, seeded apart from
# training: every training seed is then measured on the same names.
SPLIT_SEED = 2024


class DataError(Exception):
    """The dataset is missing, corrupt or empty."""


@dataclass(frozen=True)
class Pinned:
    """A dataset known by its sha256: where to download it, how to find it.

    A local copy is found through an environment variable, then in the
    user's cache under the file's name; else it is downloaded from url.
    """

    name: str  # the file's name in the cache and in messages
    url: str
    sha256: str
    env_var: str  # names a checked local copy (tests and CI set it)
    option: str  # the command-line option that takes any other file
    holds: str  # what such a file holds, for messages


NAMES = Pinned(
    "names.txt",
    DATA_URL,
    DATA_SHA256,
    ENV_VAR,
    "--data",
    "a text file, one document per line",
)


def cache_path(pinned=NAMES):
    """Where a downloaded copy lives: $XDG_CACHE_HOME or ~/.cache."""
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "microgpt" / pinned.name


def sha256_of(path):
    """Hex sha256 of a file's bytes."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def check_sha256(path, advice, pinned=NAMES):
    """Raise DataError, with advice, unless path has the pinned sha256."""
    actual = sha256_of(path)
    if actual != pinned.sha256:
        raise DataError(
            f"{path} has sha256 {actual}, expected "
            f"{pinned.sha256} (the pinned {pinned.name}); "
            f"{advice}"
        )


def download(dest, pinned=NAMES):
    """Fetch pinned.url to dest atomically, verifying its checksum first.

    A failed or partial download, or a checksum mismatch, leaves nothing
    at dest: the file is written through outputs.atomic_write.
    """
    dest, url = Path(dest), pinned.url
    dest.parent.mkdir(parents=True, exist_ok=True)
    offline = (
        f"to use a local copy of {pinned.name}, set "
        f"{pinned.env_var} to its absolute path"
    )

    def fetch(f):
        digest = hashlib.sha256()
        try:
            with urllib.request.urlopen(url, timeout=60) as response:
                while chunk := response.read(1 << 16):
                    digest.update(chunk)
                    f.write(chunk)
        # A connection cut short raises http.client.IncompleteRead, an
        # HTTPException, which is not an OSError.
        except (OSError, http.client.HTTPException) as e:
            raise DataError(f"could not download {url}: {e}; {offline}") from e
        if digest.hexdigest() != pinned.sha256:
            raise DataError(
                f"{url} (for {dest}) has sha256 {digest.hexdigest()}, "
                f"expected {pinned.sha256}; nothing was saved"
            )

    try:
        outputs.atomic_write(dest, fetch)
    except OSError as e:
        # fetch turns the network's errors into DataError, so an OSError
        # here comes from the cache folder.
        raise DataError(f"{e}; {offline}") from e
    return dest


def check_file(path, missing, source="", pinned=NAMES):
    """Raise DataError unless path is a regular file; missing if absent.

    source says where path came from, e.g. " (from $MICROGPT_DATA)".
    """
    # is_file() alone would call a folder or a FIFO "missing"; and
    # reading a FIFO would wait for a writer that may never come.
    if path.is_dir():
        raise DataError(
            f"the dataset {path}{source} is a folder; give {pinned.holds}"
        )
    if path.exists() and not path.is_file():
        raise DataError(
            f"the dataset {path}{source} is not a regular "
            f"file (a device, FIFO or socket); give a text "
            f"file"
        )
    if not path.is_file():
        raise DataError(missing)


def resolve_data_path(path=None, pinned=NAMES):
    """Find the dataset: argument, environment variable, cache, download.

    The environment variable is pinned.env_var ($MICROGPT_DATA for the
    names); a path given as an argument is the user's own file.
    """
    if path is not None:
        path = Path(path)
        check_file(path, f"dataset file not found: {path}", pinned=pinned)
        # The user's own file has no pinned checksum to compare with.
        return path
    env_var = pinned.env_var
    env = os.environ.get(env_var)
    if env:
        path = Path(env)
        check_file(
            path,
            f"{env_var} points to a missing file: {path}",
            f" (from ${env_var})",
            pinned,
        )
        check_sha256(
            path,
            f"{env_var} must name that file; pass any "
            f"other file by path ({pinned.option})",
            pinned,
        )
        return path
    path = cache_path(pinned)
    if path.is_file():
        check_sha256(
            path, "delete this cached copy to download it again", pinned
        )
        return path
    return download(path, pinned)


def load_docs(path=None):
    """The documents: one per non-blank line, stripped, in file order."""
    path = resolve_data_path(path)
    try:
        with open(path, encoding="utf-8") as f:
            docs = [line.strip() for line in f if line.strip()]
    except UnicodeDecodeError as e:
        raise DataError(f"{path} is not UTF-8 text: {e}") from e
    if not docs:
        raise DataError(f"dataset is empty (no non-blank lines): {path}")
    return docs


def check_fraction(fraction):
    """Raise ValueError unless fraction, the share held out, is a number
    strictly between 0 and 1."""
    if (
        isinstance(fraction, bool)
        or not isinstance(fraction, (int, float))
        or not 0 < fraction < 1
    ):
        raise ValueError(
            f"the held-out fraction must be between 0 and 1 "
            f"(exclusive), got {fraction!r}"
        )


def split_docs(docs, fraction, seed=SPLIT_SEED):
    """(train_docs, val_docs): a seeded fraction of docs held out.

    round(fraction * len(docs)) documents, at least one, are held out;
    both lists keep the file's order. The draw uses its own random
    generator, so no other random stream (training's) is touched.
    """
    check_fraction(fraction)
    docs = list(docs)
    n_val = max(1, round(fraction * len(docs)))
    if n_val >= len(docs):
        raise ValueError(
            f"holding out {fraction:g} of {len(docs)} "
            f"documents leaves none to train on"
        )
    held = set(random.Random(seed).sample(range(len(docs)), n_val))
    return (
        [d for i, d in enumerate(docs) if i not in held],
        [d for i, d in enumerate(docs) if i in held],
    )


@dataclass(frozen=True)
class Tokenizer:
    """Characters to ids 0..n-1 in sorted order; BOS is id n."""

    chars: tuple  # the sorted unique characters

    @classmethod
    def from_docs(cls, docs):
        """Build the vocabulary from every character in the documents."""
        return cls(tuple(sorted(set("".join(docs)))))

    @property
    def bos(self):
        """The id that marks both the start and the end of a document."""
        return len(self.chars)

    @property
    def vocab_size(self):
        """The number of ids, counting the characters and BOS."""
        return len(self.chars) + 1

    def encode(self, text):
        """Ids of the characters of text (no BOS)."""
        index = {ch: i for i, ch in enumerate(self.chars)}
        try:
            return [index[ch] for ch in text]
        except KeyError as e:
            raise ValueError(
                f"character {e.args[0]!r} is not in the vocabulary"
            ) from None

    def decode(self, ids):
        """The text of a list of ids; BOS is not allowed inside."""
        for i in ids:
            if not 0 <= i < len(self.chars):
                raise ValueError(
                    f"id {i!r} is not a character id "
                    f"(0..{len(self.chars) - 1})"
                )
        return "".join(self.chars[i] for i in ids)

    def frame(self, doc):
        """A document as training tokens: BOS, its characters, BOS."""
        return [self.bos] + self.encode(doc) + [self.bos]
