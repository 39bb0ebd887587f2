"""The layers the emotion CNN carries inside it (fer_ros.keras_layers)."""

import numpy as np
import pytest

keras = pytest.importorskip("keras", reason="Keras/TensorFlow not installed")

from fer_ros.keras_layers import HistogramEqualization


def equalize(images, levels):
    x = np.asarray(images, np.float32)[..., None]
    return np.asarray(HistogramEqualization(levels)(x))[..., 0]


def test_each_pixel_becomes_the_share_of_pixels_at_or_below_its_level():
    image = np.zeros((48, 48), np.float32)
    image[:, 12:] = 100.0      # a quarter at 0, three quarters at 100
    out = equalize([image], 256)[0]
    np.testing.assert_allclose(out[:, :12], 255 * 0.25, atol=1e-3)
    np.testing.assert_allclose(out[:, 12:], 255.0, atol=1e-3)


def test_a_dim_low_contrast_face_and_the_same_face_at_full_contrast_look_alike():
    face = np.random.default_rng(0).integers(0, 128, (3, 48, 48)).astype(np.float32)
    brighter = 2 * face + 1    # any strictly increasing change of grey levels
    np.testing.assert_allclose(equalize(face, 256), equalize(brighter, 256), atol=1e-3)
    # and each image is equalised on its own: the batch does not mix them
    np.testing.assert_allclose(equalize(face, 256)[1], equalize(face[1:2], 256)[0], atol=1e-3)


def test_coarser_levels_bin_the_grey_levels():
    # 64 levels: 0..3 share a bin, so the darkest pixels all map to the bin's share
    image = np.tile(np.arange(48, dtype=np.float32), (48, 1))
    out = equalize([image], 64)[0]
    assert np.all(out[:, 0] == out[:, 3]) and out[0, 4] > out[0, 3]
    with pytest.raises(ValueError, match="levels"):
        HistogramEqualization(1)
