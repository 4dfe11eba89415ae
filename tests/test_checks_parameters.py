"""The parameters chapter's exercise checks pass right answers, fail wrong."""

import numpy as np
import pytest

from microgpt.course.checks import CheckFailed, parameters
from microgpt.engine import Value
from microgpt.params import param_shapes

pytestmark = pytest.mark.model


def count_params(cfg):
    V, B, d, L = cfg.vocab_size, cfg.block_size, cfg.n_embd, cfg.n_layer
    return 2 * V * d + B * d + 12 * L * d * d


def scaled_init(cfg, rng, std, scale=None, residual=("attn_wo", "mlp_fc2")):
    if scale is None:
        scale = (2 * cfg.n_layer) ** -0.5
    return {
        name: [
            [
                rng.gauss(0, std * (scale if name.endswith(residual) else 1.0))
                for _ in range(cols)
            ]
            for _ in range(rows)
        ]
        for name, (rows, cols) in param_shapes(cfg).items()
    }


def unflatten(flat, cfg):
    it = iter(flat)
    return {
        name: [[next(it) for _ in range(cols)] for _ in range(rows)]
        for name, (rows, cols) in param_shapes(cfg).items()
    }


def count_with_biases(cfg):
    V, d, L = cfg.vocab_size, cfg.n_embd, cfg.n_layer
    return count_params(cfg) + L * (4 * d + 4 * d + d) + V


def test_two_layers_passes_the_measured_count(capsys):
    parameters.check_two_layers(lambda: 7264)
    assert "✓ parameters with n_layer=2" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (8384, "only the layers repeat"),
        (4192, "that is the count of one layer"),
        (7000, "is too small"),
    ],
)
def test_two_layers_typical_mistakes_get_their_hint(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 4, exercise 1: "
        r"parameters with n_layer=2: .*" + hint,
    ):
        parameters.check_two_layers(lambda: wrong)


def test_count_with_biases_passes_the_formula(capsys):
    parameters.check_count_with_biases(count_with_biases)
    assert "✓ count_with_biases" in capsys.readouterr().out


def test_count_with_biases_from_the_shapes_passes(capsys):
    def from_shapes(cfg):
        return sum(
            r * c + (r if name not in ("wte", "wpe") else 0)
            for name, (r, c) in param_shapes(cfg).items()
        )

    parameters.check_count_with_biases(from_shapes)
    assert "✓ count_with_biases" in capsys.readouterr().out


@pytest.mark.parametrize(
    "wrong, hint",
    [
        (
            lambda cfg: count_with_biases(cfg) - cfg.vocab_size,
            "leaving out lm_head's bias",
        ),
        (
            lambda cfg: (
                count_with_biases(cfg) + cfg.vocab_size + cfg.block_size
            ),
            "giving the embedding tables wte and wpe a bias too",
        ),
        (
            lambda cfg: count_with_biases(cfg) - cfg.vocab_size + cfg.n_embd,
            "biases as long as each layer's input, not its output",
        ),
        (count_params, "the count without any bias"),
    ],
)
def test_count_with_biases_typical_mistakes_get_their_hint(wrong, hint):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 4, exercise 2: "
        r"count_with_biases\(vocab_size=27, n_layer=1, "
        r"n_embd=16, block_size=16\): got \d+, expected "
        r"4363; this is what " + hint + " gives$",
    ):
        parameters.check_count_with_biases(wrong)


def test_count_with_biases_ignoring_depth_fails_on_a_deeper_config():
    def one_layer(cfg):
        d = cfg.n_embd
        return count_params(cfg) + 9 * d + cfg.vocab_size

    with pytest.raises(CheckFailed, match=r"n_layer=3"):
        parameters.check_count_with_biases(one_layer)


def test_scaled_init_passes_the_reference(capsys):
    parameters.check_scaled_init(scaled_init)
    assert "✓ scaled_init" in capsys.readouterr().out


def test_scaled_init_scaling_after_the_draw_passes(capsys):
    def after(cfg, rng, std):
        weights = scaled_init(cfg, rng, std, scale=1.0)
        s = (2 * cfg.n_layer) ** -0.5
        return {
            name: [
                [
                    w * s if name.endswith(("attn_wo", "mlp_fc2")) else w
                    for w in row
                ]
                for row in rows
            ]
            for name, rows in weights.items()
        }

    parameters.check_scaled_init(after)
    assert "✓ scaled_init" in capsys.readouterr().out


@pytest.mark.parametrize(
    "answer, mistake",
    [
        (
            lambda cfg, rng, std: scaled_init(cfg, rng, std, scale=1.0),
            "the package's init, with no matrix scaled",
        ),
        (
            lambda cfg, rng, std: scaled_init(cfg, rng, std, residual=""),
            "scaling every matrix, not only attn_wo and mlp_fc2",
        ),
        (
            lambda cfg, rng, std: scaled_init(
                cfg, rng, std, scale=cfg.n_layer**-0.5
            ),
            "a scale of 1 / sqrt\\(n_layer\\), without the 2",
        ),
        (
            lambda cfg, rng, std: scaled_init(
                cfg, rng, std, scale=1 / (2 * cfg.n_layer)
            ),
            "a scale of 1 / \\(2 n_layer\\), without the square root",
        ),
    ],
)
def test_scaled_init_typical_mistakes_name_it(answer, mistake):
    with pytest.raises(
        CheckFailed,
        match=r"^chapter 4, exercise 3: scaled "
        r"init for vocab_size=50, n_layer=3, .*; this is "
        r"what " + mistake + " gives$",
    ):
        parameters.check_scaled_init(answer)


def test_scaled_init_column_major_fails_at_an_entry():
    def column_major(cfg, rng, std):
        s = (2 * cfg.n_layer) ** -0.5
        out = {}
        for name, (rows, cols) in param_shapes(cfg).items():
            sd = std * (s if name.endswith(("attn_wo", "mlp_fc2")) else 1)
            by_col = [
                [rng.gauss(0, sd) for _ in range(rows)] for _ in range(cols)
            ]
            out[name] = [list(r) for r in zip(*by_col)]
        return out

    with pytest.raises(
        CheckFailed,
        match=r"wte at row 0, column 1 is .*"
        r"expected .*; this is what drawing each matrix "
        r"column by column gives$",
    ):
        parameters.check_scaled_init(column_major)


def test_scaled_init_with_wrong_std_fails_at_the_first_entry():
    with pytest.raises(
        CheckFailed,
        match=r"wte at row 0, column 0 is "
        r".*difference [^;]*$",
    ):
        parameters.check_scaled_init(
            lambda cfg, rng, std: scaled_init(cfg, rng, 0.1)
        )


def test_scaled_init_with_an_extra_draw_fails_on_the_stream():
    def extra_draw(cfg, rng, std):
        weights = scaled_init(cfg, rng, std)
        rng.random()
        return weights

    with pytest.raises(CheckFailed, match=r"count your draws"):
        parameters.check_scaled_init(extra_draw)


def test_scaled_init_in_another_order_fails_on_names():
    def sorted_names(cfg, rng, std):
        weights = scaled_init(cfg, rng, std)
        return {name: weights[name] for name in sorted(weights)}

    with pytest.raises(CheckFailed, match=r"the names, in order"):
        parameters.check_scaled_init(sorted_names)


def test_scaled_init_calling_the_package_is_turned_off():
    from microgpt.params import init_weights

    with pytest.raises(
        CheckFailed,
        match=r"your answer calls "
        r"microgpt.params.init_weights",
    ):
        parameters.check_scaled_init(init_weights)


def test_unflatten_passes_the_reference(capsys):
    parameters.check_unflatten(unflatten)
    assert "✓ unflatten" in capsys.readouterr().out


def test_unflatten_transposed_fails_on_a_shape():
    def transposed(flat, cfg):
        it = iter(flat)
        return {
            name: [[next(it) for _ in range(rows)] for _ in range(cols)]
            for name, (rows, cols) in param_shapes(cfg).items()
        }

    with pytest.raises(
        CheckFailed,
        match=r"shape of 'wte': got \(16, 27\), "
        r"expected \(27, 16\)",
    ):
        parameters.check_unflatten(transposed)


def test_unflatten_column_by_column_names_the_mistake():
    def by_column(flat, cfg):
        it, out = iter(flat), {}
        for name, (rows, cols) in param_shapes(cfg).items():
            columns = [[next(it) for _ in range(rows)] for _ in range(cols)]
            out[name] = [list(r) for r in zip(*columns)]
        return out

    with pytest.raises(
        CheckFailed,
        match=r"wte at row 0, column 1 is .*; "
        r"this is what filling each matrix column by column "
        r"gives$",
    ):
        parameters.check_unflatten(by_column)


def test_weights_as_numpy_arrays_pass(capsys):
    # A NumPy float's .data is a memoryview, not its value.
    def init_arrays(cfg, rng, std):
        return {
            name: np.array(rows)
            for name, rows in scaled_init(cfg, rng, std).items()
        }

    def unflatten_arrays(flat, cfg):
        flat, out, start = np.array(flat), {}, 0
        for name, (rows, cols) in param_shapes(cfg).items():
            out[name] = flat[start : start + rows * cols].reshape(rows, cols)
            start += rows * cols
        return out

    parameters.check_scaled_init(init_arrays)
    parameters.check_unflatten(unflatten_arrays)
    out = capsys.readouterr().out
    assert "✓ scaled_init" in out and "✓ unflatten" in out


def test_weights_as_values_pass(capsys):
    def unflatten_values(flat, cfg):
        return {
            name: [[Value(w) for w in row] for row in rows]
            for name, rows in unflatten(flat, cfg).items()
        }

    parameters.check_unflatten(unflatten_values)
    assert "✓ unflatten" in capsys.readouterr().out


def test_weights_that_are_not_numbers_fail_naming_the_entry():
    def nested(flat, cfg):
        return {
            name: [[[w] for w in row] for row in rows]
            for name, rows in unflatten(flat, cfg).items()
        }

    with pytest.raises(
        CheckFailed,
        match=r"wte at row 0, column 0 is "
        r"\[.*\], expected a number",
    ):
        parameters.check_unflatten(nested)


def test_a_ragged_matrix_fails_at_its_short_row():
    def ragged(flat, cfg):
        weights = unflatten(flat, cfg)
        weights["wpe"][3] = weights["wpe"][3][:-1]
        return weights

    with pytest.raises(
        CheckFailed,
        match=r"length of row 3 of wpe: got 15,"
        r" expected 16",
    ):
        parameters.check_unflatten(ragged)
