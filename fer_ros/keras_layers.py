"""Keras layers the emotion CNN carries inside it, so that every runtime (Keras, LiteRT) feeds
it the same raw pixels.  Imported by training/model.py and before a `.keras` model is loaded;
importing it imports Keras.
"""

import keras
from keras import ops


@keras.saving.register_keras_serializable(package="fer_ros")
class HistogramEqualization(keras.layers.Layer):
    """Histogram equalisation of each image on its own: a pixel becomes 255 times the share
    of the image's pixels whose grey level (in ``levels`` bins over [0, 256)) is at most its
    own.  Takes and returns (N, H, W, 1) grey levels in [0, 255].

    Why: a camera's faces differ from FER2013's in exposure and contrast; equalised, every
    face spans the whole grey range, so those differences no longer reach the network.
    Written with comparisons, a mean and a batched matrix product, which LiteRT runs as
    built-in ops.
    """

    def __init__(self, levels: int = 64, **kwargs):
        super().__init__(**kwargs)
        if not 2 <= int(levels) <= 256:
            raise ValueError(f"levels must be in [2, 256], got {levels}")
        self.levels = int(levels)

    def call(self, x):
        height, width = x.shape[1], x.shape[2]
        pixels = ops.reshape(ops.cast(x, "float32"), (-1, height * width, 1))
        # lower edges of bins 1 .. levels-1; bin 0 starts at 0
        edges = ops.arange(1, self.levels, dtype="float32") * (256.0 / self.levels)
        at_or_above = ops.cast(pixels >= edges, "float32")           # (N, P, levels-1)
        tail = ops.mean(at_or_above, axis=1)                          # share in bins >= b
        share = tail - ops.pad(tail[:, 1:], ((0, 0), (0, 1)))         # share in bin b
        # share of pixels in bins <= a pixel's own bin
        cdf = (1.0 - tail[:, :1]) + ops.squeeze(
            ops.matmul(at_or_above, share[:, :, None]), axis=-1)
        out = ops.reshape(255.0 * cdf, (-1, height, width, 1))
        return ops.cast(out, x.dtype)

    def compute_output_shape(self, input_shape):
        return input_shape

    def get_config(self):
        return {**super().get_config(), "levels": self.levels}
