"""Frozen configuration for the model, for training and for sampling."""

from dataclasses import dataclass, field

MIN_TEMPERATURE = 1e-6  # the smallest sampling temperature accepted
EPS_NORM = 1e-5  # keeps rmsnorm finite for an all-zero input
EVAL_BATCH = 512  # documents per batch when a loss is measured


def _positive_int(owner, name, value):
    """Raise ValueError unless value is an int greater than zero."""
    if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
        raise ValueError(
            f"{owner}.{name} must be a positive integer, got {value!r}"
        )


def _positive_float(owner, name, value):
    """Raise ValueError unless value is a real number greater than zero."""
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not value > 0
        or value == float("inf")
    ):
        raise ValueError(
            f"{owner}.{name} must be a positive number, got {value!r}"
        )


def check_top(top_k, top_p, owner=""):
    """Raise ValueError unless top_k and top_p are None or valid.

    top_k must be a positive integer (a k above the vocabulary keeps
    every token) and top_p a number in (0, 1]; owner, such as
    "SampleConfig", prefixes the names in the message.
    """
    prefix = f"{owner}." if owner else ""
    if top_k is not None and (
        isinstance(top_k, bool) or not isinstance(top_k, int) or top_k <= 0
    ):
        raise ValueError(
            f"{prefix}top_k must be a positive integer, got {top_k!r}"
        )
    if top_p is not None and (
        isinstance(top_p, bool)
        or not isinstance(top_p, (int, float))
        or not 0 < top_p <= 1
    ):  # also refuses nan
        raise ValueError(
            f"{prefix}top_p must be a number in (0, 1], got {top_p!r}"
        )


@dataclass(frozen=True)
class ModelConfig:
    """The shape of the network; the defaults are the original's."""

    vocab_size: int = 27  # 26 letters + BOS for the names dataset
    n_layer: int = 1  # depth: number of transformer blocks
    n_embd: int = 16  # width of the residual stream
    block_size: int = 16  # longest context; the longest name is 15 chars
    n_head: int = 4  # attention heads per block

    def __post_init__(self):
        for name in (
            "vocab_size",
            "n_layer",
            "n_embd",
            "block_size",
            "n_head",
        ):
            _positive_int("ModelConfig", name, getattr(self, name))
        if self.n_embd % self.n_head:
            raise ValueError(
                f"ModelConfig.n_embd ({self.n_embd}) must be divisible "
                f"by ModelConfig.n_head ({self.n_head})"
            )

    @property
    def head_dim(self):
        """Width of one attention head."""
        return self.n_embd // self.n_head


@dataclass(frozen=True)
class TrainConfig:
    """How to train; the defaults are the original's."""

    num_steps: int = 1000
    learning_rate: float = 0.01  # peak; decays linearly to 0
    beta1: float = 0.85
    beta2: float = 0.99
    eps_adam: float = 1e-8
    seed: int = 42
    batch_size: int = 1  # 1 is exactly the original

    def __post_init__(self):
        _positive_int("TrainConfig", "num_steps", self.num_steps)
        _positive_int("TrainConfig", "batch_size", self.batch_size)
        _positive_float("TrainConfig", "learning_rate", self.learning_rate)
        _positive_float("TrainConfig", "eps_adam", self.eps_adam)
        for name in ("beta1", "beta2"):
            beta = getattr(self, name)
            if (
                isinstance(beta, bool)
                or not isinstance(beta, (int, float))
                or not 0 <= beta < 1
            ):
                raise ValueError(
                    f"TrainConfig.{name} must be in [0, 1), got {beta!r}"
                )
        if isinstance(self.seed, bool) or not isinstance(self.seed, int):
            raise ValueError(
                f"TrainConfig.seed must be an integer, got {self.seed!r}"
            )


@dataclass(frozen=True)
class SampleConfig:
    """How to sample from a trained model; the defaults are the original's.

    The filters top_k and top_p (see generate) are None, as in the
    original, to keep every token.
    """

    temperature: float = 0.5  # in (0, 1] in the original; > 0 here
    num_samples: int = 20
    # The metadata gives the command line the filters' type.
    top_k: int = field(default=None, metadata={"type": int})
    top_p: float = field(default=None, metadata={"type": float})

    def __post_init__(self):
        check_top(self.top_k, self.top_p, "SampleConfig")
        _positive_int("SampleConfig", "num_samples", self.num_samples)
        _positive_float("SampleConfig", "temperature", self.temperature)
        # Sampling divides the logits by the temperature; below the
        # minimum the quotients overflow to inf (a small temperature
        # such as 0.01 already gives nearly greedy names).
        if self.temperature < MIN_TEMPERATURE:
            raise ValueError(
                f"SampleConfig.temperature must be at least "
                f"{MIN_TEMPERATURE:g}, got {self.temperature!r}"
            )
