"""Parameter names, shapes and the shared Gaussian initialization."""

INIT_STD = 0.08  # small enough that the first logits are near uniform


def param_shapes(cfg):
    """Name -> (rows, cols) of every weight matrix, in the original order."""
    d = cfg.n_embd
    shapes = {
        "wte": (cfg.vocab_size, d),  # token embeddings
        "wpe": (cfg.block_size, d),  # position embeddings
        "lm_head": (cfg.vocab_size, d),  # residual stream -> logits
    }
    for i in range(cfg.n_layer):
        shapes[f"layer{i}.attn_wq"] = (d, d)
        shapes[f"layer{i}.attn_wk"] = (d, d)
        shapes[f"layer{i}.attn_wv"] = (d, d)
        shapes[f"layer{i}.attn_wo"] = (d, d)
        shapes[f"layer{i}.mlp_fc1"] = (4 * d, d)
        shapes[f"layer{i}.mlp_fc2"] = (d, 4 * d)
    return shapes


def num_params(cfg):
    """Total number of scalars in the model."""
    return sum(r * c for r, c in param_shapes(cfg).values())


def init_weights(cfg, rng, std=INIT_STD):
    """Name -> list of rows of floats, drawn from rng in the original order.

    Every implementation starts from these floats, so one seed gives the
    same model everywhere.
    """
    # The order of draws is part of the spec: matrix by matrix in
    # param_shapes order, row by row, column by column.
    return {
        name: [[rng.gauss(0, std) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(cfg).items()
    }
