"""Re-framed training faces (training/reframe.py), camera augmentation and the logit-adjusted
loss, on tiny fixtures made here."""

import os

import cv2
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras", reason="Keras/TensorFlow not installed")
skdata = pytest.importorskip("skimage.data")

from fer_ros.face_crop import node_crop
from fer_ros.face_tracking.search import make_face_detector
from fer_ros.preprocessing import to_model_input
from training import reframe, scenes
from training.data import CLASS_NAMES, CameraAugmentation, Split, load_dataset, save_reframed
from training.model import LogitAdjustedCrossEntropy, log_prior, make_model

# the astronaut's face (x, y, w, h) with a training face's margin around it
ASTRONAUT_FACE = (160, 53, 129, 129)


def astronaut_face48():
    x, y, w, h = ASTRONAUT_FACE
    grey = cv2.cvtColor(skdata.astronaut()[y:y + h, x:x + w], cv2.COLOR_RGB2GRAY)
    return cv2.resize(grey, (48, 48), interpolation=cv2.INTER_AREA)


@pytest.fixture(scope="module")
def detector():
    return make_face_detector({})


def test_a_found_face_becomes_the_node_crop_of_its_detection(detector):
    face = astronaut_face48()
    out, found = reframe.reframe_face(face, detector)
    assert found and out.shape == (48, 48) and out.dtype == np.uint8
    # exactly what the node sends for the detection of the face in its frame
    frame = reframe.face_in_frame(face)
    det = scenes.find_face(reframe.FACE_IN_FRAME, detector.detect(frame))
    np.testing.assert_array_equal(out, to_model_input([node_crop(frame, det)])[0, :, :, 0])
    # still the same face: close to the original, framed a little differently
    correlation = np.corrcoef(out.ravel().astype(float), face.ravel().astype(float))[0, 1]
    assert correlation > 0.5


def test_a_face_the_detector_misses_is_kept_and_the_file_round_trips(detector, tmp_path):
    flat = np.full((48, 48), 128, np.uint8)
    out, found = reframe.reframe_face(flat, detector)
    assert not found and out is flat
    split = Split(np.stack([astronaut_face48(), flat]), np.array([3, 5]), CLASS_NAMES)
    images, mask = reframe.reframe_split(split, detector)
    assert mask.tolist() == [True, False]
    np.testing.assert_array_equal(images[1], flat)
    path = tmp_path / "reframed.npz"
    save_reframed(path, {"train": Split(images, split.labels, CLASS_NAMES),
                         "validation": split}, {"train": mask, "validation": mask})
    loaded = load_dataset(path)
    assert sorted(loaded) == ["train", "validation"]
    np.testing.assert_array_equal(loaded["train"].images, images)
    assert loaded["train"].labels.tolist() == [3, 5]
    assert loaded["validation"].class_names == CLASS_NAMES


def test_reframe_cli_reuses_an_existing_file(tmp_path):
    root = tmp_path / "data" / "images"
    for split in ("train", "validation"):
        folder = root / split / "happy"
        folder.mkdir(parents=True)
        cv2.imwrite(str(folder / "0.png"), astronaut_face48())
    out = tmp_path / "reframed.npz"
    assert reframe.main(["--data", str(tmp_path / "data"), "--out", str(out)]) == 0
    first = out.stat().st_mtime_ns
    assert load_dataset(out)["train"].images.shape == (1, 48, 48)
    assert reframe.main(["--data", str(tmp_path / "data"), "--out", str(out)]) == 0
    assert out.stat().st_mtime_ns == first


def test_camera_augmentation_is_seeded_keeps_range_and_changes_images():
    batch = np.stack([astronaut_face48()] * 16).astype(np.float32)
    camera = CameraAugmentation()
    first = camera.apply(batch, np.random.default_rng(3))
    again = camera.apply(batch, np.random.default_rng(3))
    np.testing.assert_array_equal(first, again)
    assert first.shape == batch.shape and first.dtype == np.float32
    assert first.min() >= 0.0 and first.max() <= 255.0
    changed = np.abs(first - batch).mean(axis=(1, 2))
    assert (changed > 0.5).all()           # the tone curve alone changes every image
    # JPEG, blur and noise on demand: each changes a face in its own way
    always = CameraAugmentation(max_log_gamma=0.0, max_contrast=0.0, blur_probability=1.0,
                                noise_probability=0.0, jpeg_probability=0.0,
                                small_face_probability=0.0)
    blurred = always.apply(batch[:1], np.random.default_rng(0))
    assert np.abs(np.diff(blurred[0], axis=1)).mean() < np.abs(np.diff(batch[0], axis=1)).mean()


def test_logit_adjusted_loss_adds_the_scaled_log_prior_to_the_logits():
    counts = np.array([10, 1, 10, 40, 20, 15, 4])
    prior = log_prior(counts)
    np.testing.assert_allclose(np.exp(prior).sum(), 1.0)
    scores = np.full((1, 7), 1 / 7, np.float32)
    target = np.eye(7, dtype=np.float32)[[1]]
    loss = LogitAdjustedCrossEntropy(prior, tau=1.0)
    expected = -(prior[1] - np.log(np.exp(prior).sum()))
    assert float(loss(target, scores)) == pytest.approx(expected, rel=1e-4)
    # a rare class costs more than a frequent one for the same score
    assert float(loss(target, scores)) > float(loss(np.eye(7, dtype=np.float32)[[3]], scores))
    # it is saved with the model and loads back
    model = make_model(class_counts=counts, logit_adjustment=0.5)
    restored = LogitAdjustedCrossEntropy.from_config(model.loss.get_config())
    assert restored.tau == 0.5 and restored.log_prior == pytest.approx(prior.tolist())
