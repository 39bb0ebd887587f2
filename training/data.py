"""Dataset loading and augmentation for the emotion CNN (NumPy + OpenCV, no TensorFlow).

Three layouts are read by path:
- the Kaggle "face expression recognition" folders: `images/train/<class>/*.jpg` and
  `images/validation/<class>/*.jpg` (a flat `<class>/*.jpg` folder is one split of its own);
- the original FER2013 `fer2013.csv` (columns emotion, pixels, Usage);
- a re-framed dataset file `*.npz` written by training/reframe.py (`save_reframed`).
Every image becomes 48x48 uint8 grayscale. Unreadable files are skipped and counted.
"""

import csv
import dataclasses
import math
from pathlib import Path

import cv2
import numpy as np

from fer_ros.preprocessing import MODEL_INPUT_SIZE, gray_channels

IMAGE_SIZE = MODEL_INPUT_SIZE   # the node feeds the model faces of this side
CLASS_NAMES = ("angry", "disgust", "fear", "happy", "neutral", "sad", "surprise")
# FER2013's own label indices: 0 Angry, 1 Disgust, 2 Fear, 3 Happy, 4 Sad, 5 Surprise, 6 Neutral.
FER2013_INDEX_ORDER = ("angry", "disgust", "fear", "happy", "sad", "surprise", "neutral")
FER2013_USAGE_TO_SPLIT = {"Training": "train", "PublicTest": "validation", "PrivateTest": "test"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".bmp", ".pgm", ".webp"}


@dataclasses.dataclass
class Split:
    """One split of a dataset: images (N, 48, 48) uint8, integer labels (N,), class names."""

    images: np.ndarray
    labels: np.ndarray
    class_names: tuple
    skipped: int = 0

    def __len__(self) -> int:
        return len(self.labels)

    def class_counts(self) -> np.ndarray:
        """Number of images of each class, in class_names order."""
        return np.bincount(self.labels, minlength=len(self.class_names))


def to_grayscale_48(image: np.ndarray) -> np.ndarray:
    """Convert an image of any size, grayscale or BGR(A), to 48x48 uint8 grayscale."""
    image = gray_channels(image)
    if image.dtype != np.uint8:
        image = cv2.normalize(image, None, 0, 255, cv2.NORM_MINMAX).astype(np.uint8)
    if image.shape != (IMAGE_SIZE, IMAGE_SIZE):
        shrinking = image.shape[0] > IMAGE_SIZE or image.shape[1] > IMAGE_SIZE
        interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_LINEAR
        image = cv2.resize(image, (IMAGE_SIZE, IMAGE_SIZE), interpolation=interpolation)
    return image


def load_class_folders(root: Path) -> Split:
    """Load a `<class>/<image>` folder; classes are the sub-folder names in sorted order."""
    root = Path(root)
    class_names = tuple(sorted(p.name for p in root.iterdir() if p.is_dir()))
    if not class_names:
        raise FileNotFoundError(f"no class folders under {root}")
    images, labels, skipped = [], [], 0
    for label, name in enumerate(class_names):
        for path in sorted((root / name).iterdir()):
            if path.suffix.lower() not in IMAGE_SUFFIXES:
                continue
            image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
            if image is None or image.size == 0:
                skipped += 1
                continue
            images.append(to_grayscale_48(image))
            labels.append(label)
    return Split(_stack(images), np.asarray(labels, dtype=np.int64), class_names, skipped)


def load_fer2013_csv(path: Path) -> dict:
    """Load fer2013.csv into splits train/validation/test, labels in CLASS_NAMES order."""
    remap = {index: CLASS_NAMES.index(name) for index, name in enumerate(FER2013_INDEX_ORDER)}
    per_split = {}
    skipped = 0
    with open(path, newline="") as handle:
        for row in csv.DictReader(handle):
            try:
                pixels = np.array(row["pixels"].split(), dtype=np.float64)
                side = math.isqrt(pixels.size)
                if side == 0 or side * side != pixels.size or pixels.max() > 255:
                    raise ValueError("pixels do not form a square 8-bit image")
                label = remap[int(row["emotion"])]
                split = FER2013_USAGE_TO_SPLIT[row["Usage"].strip()]
            except (KeyError, ValueError, AttributeError):
                skipped += 1
                continue
            image = to_grayscale_48(pixels.reshape(side, side).astype(np.uint8))
            images, labels = per_split.setdefault(split, ([], []))
            images.append(image)
            labels.append(label)
    splits = {
        name: Split(_stack(images), np.asarray(labels, dtype=np.int64), CLASS_NAMES)
        for name, (images, labels) in per_split.items()
    }
    if skipped and splits:
        next(iter(splits.values())).skipped = skipped
    return splits


def load_dataset(path) -> dict:
    """Load every split found at `path` as {split name: Split}.

    `path` may be fer2013.csv, a re-framed .npz, a folder holding `images/<split>/<class>/`,
    a folder holding `<split>/<class>/` (train, validation, test), or a flat `<class>/`
    folder (split "all").
    """
    path = Path(path)
    if path.is_file() and path.suffix.lower() == ".csv":
        return load_fer2013_csv(path)
    if path.is_file() and path.suffix.lower() == ".npz":
        return load_reframed(path)
    if not path.is_dir():
        raise FileNotFoundError(f"dataset not found: {path}")
    if (path / "images").is_dir():
        path = path / "images"
    split_dirs = [path / name for name in ("train", "validation", "test") if (path / name).is_dir()]
    if split_dirs:
        return {d.name: load_class_folders(d) for d in split_dirs}
    return {"all": load_class_folders(path)}


def save_reframed(path, splits: dict, found: dict) -> None:
    """Write re-framed splits ({name: Split}) and their masks of re-framed faces ({name:
    bool array}) as one .npz file, atomically."""
    path = Path(path)
    arrays = {"class_names": np.array(next(iter(splits.values())).class_names)}
    for name, split in splits.items():
        arrays.update({f"{name}_images": split.images, f"{name}_labels": split.labels,
                       f"{name}_found": found[name]})
    tmp = path.with_name(path.name + ".tmp.npz")
    np.savez(tmp, **arrays)
    tmp.replace(path)


def load_reframed(path) -> dict:
    """The splits of a file written by ``save_reframed``."""
    with np.load(path) as arrays:
        names = tuple(str(n) for n in arrays["class_names"])
        splits = [key.removesuffix("_images") for key in arrays.files
                  if key.endswith("_images")]
        return {name: Split(arrays[f"{name}_images"], arrays[f"{name}_labels"], names)
                for name in splits}


def _stack(images: list) -> np.ndarray:
    if not images:
        return np.zeros((0, IMAGE_SIZE, IMAGE_SIZE), dtype=np.uint8)
    return np.stack(images).astype(np.uint8)


@dataclasses.dataclass(frozen=True)
class Augmentation:
    """Random geometric and photometric jitter applied per image, per epoch."""

    flip: bool = True
    max_rotation_deg: float = 10.0
    max_shift: float = 0.1
    max_zoom: float = 0.1
    max_brightness: float = 0.2
    erase_probability: float = 0.25

    def apply(self, images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """Return an augmented float32 copy of a uint8 batch (N, 48, 48)."""
        out = np.empty(images.shape, dtype=np.float32)
        centre = (IMAGE_SIZE / 2 - 0.5, IMAGE_SIZE / 2 - 0.5)
        count = len(images)
        angles = rng.uniform(-self.max_rotation_deg, self.max_rotation_deg, count)
        scales = 1.0 + rng.uniform(-self.max_zoom, self.max_zoom, count)
        shifts = rng.uniform(-self.max_shift, self.max_shift, (count, 2)) * IMAGE_SIZE
        flips = rng.random(count) < 0.5 if self.flip else np.zeros(count, bool)
        gains = 1.0 + rng.uniform(-self.max_brightness, self.max_brightness, count)
        erase = rng.random(count) < self.erase_probability
        for i in range(count):
            matrix = cv2.getRotationMatrix2D(centre, angles[i], scales[i])
            matrix[:, 2] += shifts[i]
            source = images[i][:, ::-1] if flips[i] else images[i]
            out[i] = cv2.warpAffine(np.ascontiguousarray(source), matrix,
                                    (IMAGE_SIZE, IMAGE_SIZE), borderMode=cv2.BORDER_REFLECT_101)
            if erase[i]:
                h, w = rng.integers(8, 20, size=2)
                y, x = rng.integers(0, IMAGE_SIZE - h), rng.integers(0, IMAGE_SIZE - w)
                out[i, y:y + h, x:x + w] = rng.uniform(0, 255)
        out *= gains[:, None, None]
        return np.clip(out, 0.0, 255.0, out=out)


@dataclasses.dataclass(frozen=True)
class CameraAugmentation:
    """What a camera does to a face that FER2013's faces do not show, per image: a tone
    curve (gamma, contrast), and now and then blur, sensor noise, JPEG compression and the
    detail lost by a small face (down- and up-scaled).  Applied after ``Augmentation``."""

    max_log_gamma: float = 0.4            # gamma in [e^-0.4, e^0.4] = [0.67, 1.49]
    max_contrast: float = 0.3             # contrast x[0.7, 1.3] about the image mean
    blur_probability: float = 0.25
    blur_sigma: tuple = (0.4, 1.2)
    noise_probability: float = 0.25
    noise_sigma: tuple = (2.0, 8.0)
    jpeg_probability: float = 0.25
    jpeg_quality: tuple = (30, 90)
    small_face_probability: float = 0.2
    small_face_side: tuple = (16, 36)     # pixels the face had before upscaling to 48

    def apply(self, batch: np.ndarray, rng: np.random.Generator) -> np.ndarray:
        """A new float32 batch (N, 48, 48) in [0, 255] from a float32 batch."""
        count = len(batch)
        gammas = np.exp(rng.uniform(-self.max_log_gamma, self.max_log_gamma, count))
        contrasts = 1.0 + rng.uniform(-self.max_contrast, self.max_contrast, count)
        draws = rng.random((count, 4))
        blur = rng.uniform(*self.blur_sigma, count)
        noise = rng.uniform(*self.noise_sigma, count)
        quality = rng.integers(self.jpeg_quality[0], self.jpeg_quality[1] + 1, count)
        small = rng.integers(self.small_face_side[0], self.small_face_side[1] + 1, count)
        out = np.empty_like(batch, dtype=np.float32)
        for i in range(count):
            image = 255.0 * (np.clip(batch[i], 0, 255) / 255.0) ** gammas[i]
            mean = image.mean()
            image = mean + contrasts[i] * (image - mean)
            if draws[i, 0] < self.small_face_probability:
                side = int(small[i])
                image = cv2.resize(cv2.resize(image, (side, side), interpolation=cv2.INTER_AREA),
                                   (IMAGE_SIZE, IMAGE_SIZE), interpolation=cv2.INTER_LINEAR)
            if draws[i, 1] < self.blur_probability:
                image = cv2.GaussianBlur(image, (0, 0), float(blur[i]))
            if draws[i, 2] < self.noise_probability:
                image = image + rng.normal(0.0, noise[i], image.shape)
            if draws[i, 3] < self.jpeg_probability:
                encoded = cv2.imencode(".jpg", np.clip(image, 0, 255).astype(np.uint8),
                                       [cv2.IMWRITE_JPEG_QUALITY, int(quality[i])])[1]
                image = cv2.imdecode(encoded, cv2.IMREAD_GRAYSCALE)
            out[i] = np.clip(image, 0.0, 255.0)
        return out
