"""conv.add_bias: a per-channel bias added in place, in rows of several pixels, including on
the crops of padded grids that transposed convolutions return."""

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad.functional as F
from npgrad.primitives import channels, conv


@settings(max_examples=40, deadline=None)
@given(rank=st.integers(1, 3), size=st.integers(1, 6), features=st.integers(1, 9),
       pad=st.integers(0, 2), dtype=st.sampled_from([np.float32, np.float64]),
       seed=st.integers(0, 2**16))
def test_a_bias_on_a_crop_changes_the_crop_alone(rank, size, features, pad, dtype, seed):
    rng = np.random.default_rng(seed)
    grid = rng.standard_normal((2,) + (size + 2 * pad,) * rank + (features,)).astype(dtype)
    before = grid.copy()
    crop = (slice(None),) + (slice(pad, pad + size),) * rank
    bias = rng.standard_normal(features).astype(dtype)
    out = conv.add_bias(grid[crop], bias)
    assert np.shares_memory(out, grid)  # in place
    expected = before.copy()
    expected[crop] += bias
    np.testing.assert_array_equal(grid, expected)  # the padding untouched


def test_a_crop_takes_rows_of_whole_image_rows(monkeypatch):
    # (N, OH, OW, F) crop of a padded grid: one bias tile per image row of OW pixels,
    # instead of NumPy's broadcast loop over every pixel
    tiles = []
    tile = channels.tile
    monkeypatch.setattr(channels, "tile",
                        lambda vector, copies: tiles.append(copies) or tile(vector, copies))
    grid = np.zeros((2, 9, 9, 4), np.float32)
    conv.add_bias(grid[:, 1:8, 1:8], np.arange(4, dtype=np.float32))
    assert tiles == [7]
    np.testing.assert_array_equal(grid[:, 1:8, 1:8], np.broadcast_to(np.arange(4.0), (2, 7, 7, 4)))
    assert not grid[:, 0].any() and not grid[:, 8].any() and not grid[:, :, 8].any()


def test_transposed_convolutions_add_their_bias_to_their_crop():
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 5, 6, 4))
    kernel = rng.standard_normal((3, 3, 7, 4))  # (KH, KW, F, C_in)
    bias = rng.standard_normal(7)
    plain = F.conv2d_transpose(x, kernel, strides=2, padding="same").numpy()
    biased = F.conv2d_transpose(x, kernel, bias, strides=2, padding="same").numpy()
    np.testing.assert_allclose(biased, plain + bias, rtol=1e-12, atol=1e-12)
    x1 = rng.standard_normal((3, 5, 4))
    kernel1 = rng.standard_normal((3, 7, 4))
    plain1 = F.conv1d_transpose(x1, kernel1, strides=2, padding="same").numpy()
    biased1 = F.conv1d_transpose(x1, kernel1, bias, strides=2, padding="same").numpy()
    np.testing.assert_allclose(biased1, plain1 + bias, rtol=1e-12, atol=1e-12)
