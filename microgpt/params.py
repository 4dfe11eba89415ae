"""The weights' names and shapes, and the initialization every twin shares."""

# The standard deviation of the initial weights: small, so that the
# first logits are nearly equal and the first predictions nearly uniform.
INIT_STD = 0.08


def param_shapes(cfg):
    """Map each weight matrix's name to its (rows, cols).

    The matrices are listed in the original microgpt's order, which
    init_weights follows when it draws them.
    """
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
    """The number of scalars in the model's weights.

    It adds up the shapes that param_shapes lists without building that
    dictionary, so that a model far too large to train is still counted
    at once: the token embeddings and the head (vocab_size, n_embd) each,
    the position embeddings (block_size, n_embd), and per layer four
    (n_embd, n_embd) attention matrices and two MLP matrices of
    4 n_embd^2 numbers each, 12 n_embd^2 in all.
    """
    C = cfg.n_embd
    return (2 * cfg.vocab_size + cfg.block_size) * C + cfg.n_layer * 12 * C * C


def init_weights(cfg, rng, std=INIT_STD):
    """Draw every weight matrix from rng: name -> list of rows of floats.

    Every twin starts from these floats, so one seed gives the same
    model in each of them.
    """
    # The order of draws is part of the spec: matrix by matrix in
    # param_shapes order, row by row, column by column.
    return {
        name: [[rng.gauss(0, std) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(cfg).items()
    }
