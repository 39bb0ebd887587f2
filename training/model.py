"""The emotion CNN: a `make_model()` factory for the reference architecture and two cheaper ones.

The model takes raw grayscale pixels in [0, 255], shape (N, 48, 48, 1), float32, and returns
softmax probabilities over the classes. Normalisation (Rescaling) lives inside the model, so
every runtime (Keras, LiteRT) feeds it the same unscaled pixels.  Trained with the recipes in
training/recipes/, expect about 68 % accuracy on FER2013 validation from the reference CNN
and 64 % from the compact one (66 % on faces framed as the node frames them), 66.5 % from the
slim one pruned from the shipped reference.
"""

import keras
import numpy as np
from keras import layers, ops

from fer_ros.keras_layers import HistogramEqualization
from training.data import CLASS_NAMES, IMAGE_SIZE

# (filters, kernel size, convolutions) of the four blocks of each architecture.  The reference
# is the brief's CNN; the compact one stacks two narrow 3x3 convolutions a block (VGG-style):
# 2.5x fewer multiply-adds a face (117 M vs 290 M), so it runs and trains faster on the CPU.
# The slim one is the reference with fewer filters in the last three blocks, made from a
# trained reference by training/prune.py: half the multiply-adds (144 M).
ARCHITECTURES = {
    "reference": ((64, 3, 1), (128, 5, 1), (512, 3, 1), (512, 3, 1)),
    "compact": ((32, 3, 2), (64, 3, 2), (128, 3, 2), (256, 3, 2)),
    "slim": ((64, 3, 1), (96, 5, 1), (256, 3, 1), (256, 3, 1)),
}
DEFAULT_ARCHITECTURE = "reference"
DENSE_UNITS = (256, 512)
# grey-level bins of the input's histogram equalisation (make_model(equalize=True)): a quarter
# of 256 makes it 4x cheaper and changes a pixel by 2.5 grey levels on average
EQUALIZE_LEVELS = 64


def describe(architecture: str, equalize: bool = False) -> str:
    """One line naming ``architecture``'s layers, for the model cards."""
    blocks = ", ".join(f"{filters}/{kernel}x{kernel}" + (f" x{convs}" if convs > 1 else "")
                       for filters, kernel, convs in ARCHITECTURES[architecture])
    first = (f"histogram equalisation ({EQUALIZE_LEVELS} levels), then " if equalize else "")
    return (f"{architecture} CNN (training/model.py make_model): {first}conv {blocks} (BatchNorm, "
            f"ReLU, 2x2 max-pool, dropout), dense {' and '.join(map(str, DENSE_UNITS))} "
            "(BatchNorm, ReLU, dropout), softmax")


@keras.saving.register_keras_serializable(package="fer_ros")
class LogitAdjustedCrossEntropy(keras.losses.Loss):
    """Cross-entropy of the scores with ``tau * log(prior)`` added to their logits (Menon et
    al., "Long-tail learning via logit adjustment", 2021): the network itself learns scores
    that do not favour the frequent classes, so its plain output suits balanced data."""

    def __init__(self, log_prior, tau: float = 1.0, label_smoothing: float = 0.0,
                 name: str = "logit_adjusted_cross_entropy", **kwargs):
        super().__init__(name=name, **kwargs)
        self.log_prior = [float(v) for v in np.ravel(log_prior)]
        self.tau, self.label_smoothing = float(tau), float(label_smoothing)

    def call(self, y_true, y_pred):
        logits = (ops.log(ops.clip(ops.cast(y_pred, "float32"), 1e-7, 1.0))
                  + self.tau * ops.convert_to_tensor(self.log_prior, "float32"))
        return keras.losses.categorical_crossentropy(
            y_true, logits, from_logits=True, label_smoothing=self.label_smoothing)

    def get_config(self):
        return {**super().get_config(), "log_prior": self.log_prior, "tau": self.tau,
                "label_smoothing": self.label_smoothing}


def log_prior(class_counts) -> np.ndarray:
    """log of the class frequencies (training-set counts)."""
    counts = np.maximum(np.asarray(class_counts, np.float64), 1.0)
    return np.log(counts / counts.sum())


def make_model(
    num_classes: int = len(CLASS_NAMES),
    architecture: str = DEFAULT_ARCHITECTURE,
    conv_dropout: float = 0.25,
    dense_dropout: float = 0.4,
    learning_rate: float = 1e-3,
    label_smoothing: float = 0.0,
    l2: float = 0.0,
    class_counts=None,
    logit_adjustment: float = 0.0,
    equalize: bool = False,
) -> keras.Model:
    """Build and compile one of ARCHITECTURES (default: the reference CNN).

    Four conv blocks (ARCHITECTURES; :func:`describe` names them), each (Conv -> BatchNorm
    -> ReLU) once or twice -> 2x2 max-pool -> dropout; flatten; DENSE_UNITS, each Dense ->
    BatchNorm -> ReLU -> dropout; softmax. Adam, categorical cross-entropy,
    accuracy.  With ``logit_adjustment`` tau > 0 the loss is LogitAdjustedCrossEntropy over
    the training ``class_counts``' prior.  With ``equalize`` each face's histogram is
    equalised first (fer_ros.keras_layers.HistogramEqualization).
    """
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1), name="pixels")
    x = inputs
    if equalize:
        x = HistogramEqualization(EQUALIZE_LEVELS, dtype="float32", name="equalize")(x)
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(x)
    if architecture not in ARCHITECTURES:
        raise ValueError(f"unknown architecture {architecture!r}: one of {sorted(ARCHITECTURES)}")
    for index, (filters, kernel, convs) in enumerate(ARCHITECTURES[architecture], start=1):
        for conv in range(1, convs + 1):
            # the reference's single convolutions keep their names (conv1..conv4)
            name = f"conv{index}" if convs == 1 else f"conv{index}_{conv}"
            x = layers.Conv2D(filters, kernel, padding="same", use_bias=False,
                              kernel_regularizer=regularizer, name=name)(x)
            x = layers.BatchNormalization(name=f"{name}_bn")(x)
            x = layers.ReLU(name=f"{name}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"conv{index}_pool")(x)
        x = layers.Dropout(conv_dropout, name=f"conv{index}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(DENSE_UNITS, start=1):
        x = layers.Dense(units, use_bias=False, kernel_regularizer=regularizer,
                         name=f"dense{index}")(x)
        x = layers.BatchNormalization(name=f"dense{index}_bn")(x)
        x = layers.ReLU(name=f"dense{index}_relu")(x)
        x = layers.Dropout(dense_dropout, name=f"dense{index}_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32",
                           name="probabilities")(x)
    model = keras.Model(inputs, outputs, name=f"fer_{architecture}_cnn")
    if logit_adjustment > 0:
        loss = LogitAdjustedCrossEntropy(log_prior(class_counts), logit_adjustment,
                                         label_smoothing)
    else:
        loss = keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=loss,
        metrics=["accuracy"],
    )
    return model
