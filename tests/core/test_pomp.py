import numpy as np
import pytest

from alliance.core.scoring import pomp


def test_pomp_maps_scale_ends_to_0_and_100_and_midpoint_to_50():
    assert pomp(0, 0, 10) == 0.0
    assert pomp(10, 0, 10) == 100.0
    assert pomp(3, 1, 5) == 50.0  # WAI-SR item mean of 3 on a 1–5 scale


def test_pomp_works_on_arrays():
    np.testing.assert_allclose(pomp([1, 2, 5], 1, 5), [0.0, 25.0, 100.0])


def test_pomp_rejects_an_empty_range():
    with pytest.raises(ValueError, match="greater than its minimum"):
        pomp(3, 5, 5)
