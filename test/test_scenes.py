"""training/scenes.py and evaluate --detector-path on tiny datasets made here."""

import json

import cv2
import numpy as np
import pytest

from fer_ros.face_detection import Detection
from training import evaluate, scenes
from training.data import CLASS_NAMES, Split

skdata = pytest.importorskip("skimage.data")

# the astronaut's BlazeFace box (x, y, w, h), framed like a training face (scale ~1.16)
ASTRONAUT_FACE = (160, 53, 129, 129)


def noise_backgrounds(n=3, seed=5):
    """Cluttered grey backgrounds made with numpy: blurred noise with bars."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        image = cv2.GaussianBlur(rng.integers(0, 256, (300, 400)).astype(np.uint8), (0, 0), 3)
        for _ in range(6):
            x, y = int(rng.integers(400)), int(rng.integers(300))
            cv2.rectangle(image, (x, y), (x + 40, y + 10), int(rng.integers(256)), -1)
        out.append(image)
    return out


def astronaut_split(per_class=2):
    """A 48x48 grey astronaut face, brightened a little per image, ``per_class`` per class."""
    x, y, w, h = ASTRONAUT_FACE
    face = cv2.resize(cv2.cvtColor(skdata.astronaut()[y:y + h, x:x + w], cv2.COLOR_RGB2GRAY),
                      (48, 48), interpolation=cv2.INTER_AREA)
    images, labels = [], []
    for label in range(len(CLASS_NAMES)):
        for i in range(per_class):
            images.append(np.clip(face.astype(int) + 5 * i, 0, 255).astype(np.uint8))
            labels.append(label)
    return Split(np.stack(images), np.array(labels), CLASS_NAMES)


def test_scenes_are_seeded_and_keep_the_face_inside_the_frame():
    face = np.full((48, 48), 200, np.uint8)
    backgrounds = noise_backgrounds()
    first = scenes.render_scene(face, np.random.default_rng([1, 2]), backgrounds)
    again = scenes.render_scene(face, np.random.default_rng([1, 2]), backgrounds)
    other = scenes.render_scene(face, np.random.default_rng([1, 3]), backgrounds)
    np.testing.assert_array_equal(first.frame, again.frame)
    assert not np.array_equal(first.frame, other.frame)
    for seed in range(20):
        s = scenes.render_scene(face, np.random.default_rng(seed), backgrounds)
        assert s.frame.shape == (480, 640, 3) and s.frame.dtype == np.uint8
        assert scenes.FACE_SIDE_PX[0] <= s.side <= scenes.FACE_SIDE_PX[1]
        assert abs(s.roll_deg) <= scenes.MAX_ROLL_DEG
        assert s.side / 2 <= s.cx <= 640 - s.side / 2 and s.side / 2 <= s.cy <= 480 - s.side / 2
    # the flat bright face shows at its centre whatever the lighting (one grey level)
    centre = first.frame[int(first.cy), int(first.cx)]
    assert centre[0] == centre[1] == centre[2]


def test_find_face_takes_the_detection_on_the_rendered_face():
    s = scenes.Scene(np.zeros((480, 640, 3), np.uint8), 300.0, 200.0, 100.0, 0.0)
    elsewhere = Detection(20, 20, 100, 100, 0.99)
    tiny = Detection(295, 195, 10, 10, 0.9)
    good = Detection(255, 160, 90, 90, 0.8)
    assert scenes.find_face(s, [elsewhere, tiny, good]) is good
    assert scenes.find_face(s, [elsewhere, tiny]) is None


def test_detector_path_counts_faces_not_found_as_wrong():
    flat = Split(np.full((14, 48, 48), 128, np.uint8), np.repeat(np.arange(7), 2), CLASS_NAMES)
    crops = evaluate.detector_path_crops(flat, ("raw",), backgrounds=noise_backgrounds())
    assert crops["raw"] == [None] * 14
    metrics = evaluate.evaluate_detector_path(evaluate.DEFAULT_MODEL, flat, crops["raw"])
    assert metrics["accuracy"] == 0.0 and metrics["detection_rate"] == 0.0
    assert metrics["not_found"] == 14
    assert [row[-1] for row in metrics["confusion_matrix"]] == [2] * 7
    assert all(metrics["per_class"][n]["recall"] == 0.0 for n in CLASS_NAMES)


def test_detector_path_cli_reports_both_crops_beside_plain_validation(tmp_path, monkeypatch):
    split = astronaut_split()
    root = tmp_path / "images" / "validation"
    for i, (image, label) in enumerate(zip(split.images, split.labels)):
        folder = root / CLASS_NAMES[label]
        folder.mkdir(parents=True, exist_ok=True)
        cv2.imwrite(str(folder / f"{i}.png"), image)
    monkeypatch.setattr(scenes, "default_backgrounds", noise_backgrounds)
    out = tmp_path / "metrics.json"
    assert evaluate.main(["--data", str(tmp_path), "--detector-path", "--json", str(out)]) == 0
    metrics = json.loads(out.read_text())
    assert metrics["num_images"] == 14 and "accuracy" in metrics
    plain_prediction = int(np.argmax(np.sum(metrics["confusion_matrix"], axis=0)))
    for name in ("canonical", "raw"):
        path = metrics["detector_path"][name]
        assert path["crop"] == name and path["num_images"] == 14
        matrix = np.array(path["confusion_matrix"])
        assert matrix.shape == (7, 8) and (matrix.sum(axis=1) == 2).all()
        assert path["not_found"] == matrix[:, -1].sum() <= 4      # the astronaut is found
        assert path["detection_rate"] == pytest.approx(1 - path["not_found"] / 14)
        assert path["accuracy"] == pytest.approx(np.trace(matrix) / 14)
        # one face seen 14 times: the classifier mostly agrees with its plain answer
        assert matrix[:, plain_prediction].sum() >= 0.5 * (14 - path["not_found"])
