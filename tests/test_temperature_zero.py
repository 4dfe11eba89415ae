"""What temperature 0 does in each twin, as chapter 10's answer says."""

import random
import warnings

import pytest

from microgpt import gpt_numpy, gpt_scalar
from microgpt.config import ModelConfig
from microgpt.params import init_weights

pytestmark = pytest.mark.model


def test_the_scalar_twin_refuses_to_divide_by_zero():
    cfg = ModelConfig()
    params = gpt_scalar.from_weights(init_weights(cfg, random.Random(0)))
    with pytest.raises(ZeroDivisionError):
        gpt_scalar.generate(params, cfg, random.Random(0), 0)


def test_the_numpy_twin_gets_infinities_then_weights_that_are_not_finite():
    cfg = ModelConfig()
    params = gpt_numpy.from_weights(init_weights(cfg, random.Random(0)))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with pytest.raises(ValueError, match="must be finite"):
            gpt_numpy.generate(params, cfg, random.Random(0), 0)
    assert any(issubclass(w.category, RuntimeWarning) for w in caught)
