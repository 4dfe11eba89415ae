"""The command line's option tables, defaults and error type.

Both the parser (cli.py) and the commands (commands.py) import this
module, and it imports neither of them, so the command line has no
import circle: the parser reads these tables to declare its options, and
the commands read them to name an option in a message.
"""

from dataclasses import fields

DEFAULT_IMPL = "numpy"  # the original's results, in a fraction of the time
DEFAULT_EVAL_EVERY = 100  # steps between validations, with --val-fraction

# Each entry is (option, config field, help). Together they cover every
# field of both configs but vocab_size, which the dataset decides.
MODEL_OPTIONS = [
    ("--n-layer", "n_layer", "transformer blocks"),
    ("--n-embd", "n_embd", "width of the residual stream"),
    ("--block-size", "block_size", "longest context, in tokens"),
    ("--n-head", "n_head", "attention heads (must divide --n-embd)"),
]
TRAIN_OPTIONS = [
    ("--steps", "num_steps", "training steps"),
    ("--lr", "learning_rate", "peak learning rate (decays linearly to 0)"),
    ("--beta1", "beta1", "Adam's decay of the gradient mean"),
    ("--beta2", "beta2", "Adam's decay of the squared-gradient mean"),
    ("--eps", "eps_adam", "Adam's epsilon"),
    ("--seed", "seed", "seed of the one random stream"),
    (
        "--batch-size",
        "batch_size",
        "documents (with --text, windows) per step (1 = original), at most "
        "as many as the dataset has; a step of over 1 GFLOP is announced "
        "before training",
    ),
]
SAMPLE_OPTIONS = [
    ("--temperature", "temperature", "sampling temperature (> 0)"),
    (
        "--top-k",
        "top_k",
        "sample from the k likeliest tokens only (by default, all)",
    ),
    (
        "--top-p",
        "top_p",
        "sample from the fewest likeliest tokens whose probability "
        "reaches p, in (0, 1] (by default, all)",
    ),
    (
        "--num-samples",
        "num_samples",
        "names (or, with --text, passages) to sample",
    ),
]


class CliError(Exception):
    """Bad input found by the command line itself, such as two options
    that exclude each other; the command line reports it in one line."""


def defaults(cls):
    """Field name -> (default, type) of a config dataclass."""
    # A field whose default is None names its type in its metadata.
    return {
        f.name: (f.default, f.metadata.get("type", type(f.default)))
        for f in fields(cls)
    }


def flags(*tables):
    """Config field -> option, such as "num_steps" -> "--steps"."""
    return {name: flag for table in tables for flag, name, _ in table}
