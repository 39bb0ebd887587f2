"""The emotion CNN: a `make_model()` factory for the reference architecture.

The model takes raw grayscale pixels in [0, 255], shape (N, 48, 48, 1), float32, and returns
softmax probabilities over the classes. Normalisation (Rescaling) lives inside the model, so
every runtime (Keras, LiteRT) feeds it the same unscaled pixels.
"""

import keras
from keras import layers

IMAGE_SIZE = 48
CLASS_NAMES = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")

# (filters, kernel size) of the four convolution blocks of the reference CNN.
REFERENCE_CONV_BLOCKS = ((64, 3), (128, 5), (512, 3), (512, 3))
REFERENCE_DENSE_UNITS = (256, 512)


def make_model(
    num_classes: int = len(CLASS_NAMES),
    conv_dropout: float = 0.25,
    dense_dropout: float = 0.4,
    learning_rate: float = 1e-3,
    label_smoothing: float = 0.0,
    l2: float = 0.0,
) -> keras.Model:
    """Build and compile the reference CNN.

    Four conv blocks (64 3x3, 128 5x5, 512 3x3, 512 3x3), each Conv -> BatchNorm -> ReLU ->
    2x2 max-pool -> dropout; flatten; Dense 256 and Dense 512, each Dense -> BatchNorm -> ReLU ->
    dropout; softmax. Adam, categorical cross-entropy, accuracy.
    """
    regularizer = keras.regularizers.L2(l2) if l2 > 0 else None
    inputs = keras.Input(shape=(IMAGE_SIZE, IMAGE_SIZE, 1), name="pixels")
    x = layers.Rescaling(1.0 / 255.0, name="rescale")(inputs)
    for index, (filters, kernel) in enumerate(REFERENCE_CONV_BLOCKS, start=1):
        x = layers.Conv2D(filters, kernel, padding="same", use_bias=False,
                          kernel_regularizer=regularizer, name=f"conv{index}")(x)
        x = layers.BatchNormalization(name=f"conv{index}_bn")(x)
        x = layers.ReLU(name=f"conv{index}_relu")(x)
        x = layers.MaxPooling2D(2, name=f"conv{index}_pool")(x)
        x = layers.Dropout(conv_dropout, name=f"conv{index}_dropout")(x)
    x = layers.Flatten(name="flatten")(x)
    for index, units in enumerate(REFERENCE_DENSE_UNITS, start=1):
        x = layers.Dense(units, use_bias=False, kernel_regularizer=regularizer,
                         name=f"dense{index}")(x)
        x = layers.BatchNormalization(name=f"dense{index}_bn")(x)
        x = layers.ReLU(name=f"dense{index}_relu")(x)
        x = layers.Dropout(dense_dropout, name=f"dense{index}_dropout")(x)
    outputs = layers.Dense(num_classes, activation="softmax", dtype="float32",
                           name="probabilities")(x)
    model = keras.Model(inputs, outputs, name="fer_reference_cnn")
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate=learning_rate),
        loss=keras.losses.CategoricalCrossentropy(label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    return model
