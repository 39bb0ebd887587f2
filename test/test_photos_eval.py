"""evaluate --photos: real-photo sets through the node's detector, crop and model, on tiny
photo sets made here (skimage's astronaut, mirrored and shrunk, and a photo without a
face)."""

import json

import cv2
import numpy as np
import pytest

from fer_ros.emotion_classifier import load_classifier
from fer_ros.face_crop import CROPS, NODE_CROP, node_crop
from fer_ros.face_detection import Detection
from fer_ros.face_tracking.search import make_face_detector
from fer_ros.preprocessing import to_model_input
from training import evaluate

skdata = pytest.importorskip("skimage.data")


def astronaut_bgr():
    return cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)


def write_set(folder, photos):
    """A photo set: ``photos`` is [(file name, image, label)]; writes the manifest."""
    (folder / "images").mkdir(parents=True)
    manifest = []
    for name, image, label in photos:
        cv2.imwrite(str(folder / "images" / name), image)
        manifest.append([f"images/{name}", label])
    (folder / "manifest.json").write_text(json.dumps(manifest))


@pytest.fixture()
def photo_root(tmp_path):
    """Two sets: 'studio' (astronaut, mirrored astronaut, a blank wall) and 'street' (the
    astronaut shrunk into a wider grey frame)."""
    face = astronaut_bgr()
    wall = np.full((300, 400, 3), 90, np.uint8)
    wide = np.full((700, 900, 3), 128, np.uint8)
    wide[100:356, 300:556] = cv2.resize(face, (256, 256), interpolation=cv2.INTER_AREA)
    write_set(tmp_path / "studio", [("a.png", face, "happy"),
                                    ("b.jpg", np.ascontiguousarray(face[:, ::-1]), "sad"),
                                    ("wall.png", wall, "angry")])
    write_set(tmp_path / "street", [("c.png", wide, "happy")])
    return tmp_path


def node_prediction(path, class_names):
    """What the node path answers for one photo, computed here step by step."""
    frame = cv2.imread(str(path))
    dets = make_face_detector({}).detect(frame)
    det = max(dets, key=lambda d: d.w * d.h)
    scores = load_classifier(evaluate.DEFAULT_MODEL).predict(
        to_model_input([node_crop(frame, det)]))
    return class_names[int(scores.argmax())]


def test_largest_face_is_the_one_with_the_largest_box():
    small, large = Detection(0, 0, 30, 30, 0.99), Detection(50, 50, 60, 55, 0.6)
    assert evaluate.largest_face([small, large]) is large
    assert evaluate.largest_face([]) is None


def test_photo_sets_are_the_folder_itself_or_its_children(photo_root):
    assert evaluate.photo_sets(photo_root / "studio") == [("studio", photo_root / "studio")]
    assert [name for name, _ in evaluate.photo_sets(photo_root)] == ["street", "studio"]
    with pytest.raises(SystemExit, match="manifest.json"):
        evaluate.photo_sets(photo_root / "studio" / "images")


def test_photos_cli_reports_every_set_and_all_together(photo_root, tmp_path, capsys):
    out = tmp_path / "photos.json"
    assert evaluate.main(["--photos", str(photo_root), "--json", str(out)]) == 0
    photos = json.loads(out.read_text())["photos"]
    assert sorted(photos) == ["all", "street", "studio"]
    studio, street, pooled = (photos[name][NODE_CROP] for name in ("studio", "street", "all"))
    assert (studio["num_images"], street["num_images"], pooled["num_images"]) == (3, 1, 4)
    # the wall has no face: a miss, counted wrong in its true class's row, and listed
    assert studio["missed"] == ["images/wall.png"] and studio["not_found"] == 1
    assert pooled["missed"] == ["studio/images/wall.png"]
    names = studio["class_names"][:-1]
    assert np.array(studio["confusion_matrix"])[names.index("angry"), -1] == 1
    assert studio["per_class"]["angry"]["recall"] == 0.0
    # the others are answered as the node answers them
    expected = {"a.png": "happy", "b.jpg": "sad", "c.png": "happy"}
    folders = {"a.png": "studio", "b.jpg": "studio", "c.png": "street"}
    right = sum(node_prediction(photo_root / folders[n] / "images" / n, names) == label
                for n, label in expected.items())
    assert pooled["accuracy"] == pytest.approx(right / 4)
    matrix = np.array(pooled["confusion_matrix"])
    assert matrix.shape == (7, 8) and matrix.sum() == 4
    assert np.trace(matrix) == right
    assert "wall.png" in capsys.readouterr().out


def test_photos_with_every_crop_and_a_label_the_model_does_not_know(photo_root, tmp_path):
    out = tmp_path / "crops.json"
    assert evaluate.main(["--photos", str(photo_root / "street"), "--crop", "all",
                          "--json", str(out)]) == 0
    street = json.loads(out.read_text())["photos"]["street"]
    assert sorted(street) == sorted(CROPS)
    assert all(result["detection_rate"] == 1.0 for result in street.values())
    write_set(tmp_path / "odd", [("a.png", astronaut_bgr(), "contempt")])
    with pytest.raises(SystemExit, match="contempt"):
        evaluate.main(["--photos", str(tmp_path / "odd")])


def test_flip_tta_on_the_node_path_averages_each_crop_with_its_mirror(photo_root, tmp_path):
    """--tta reaches the node's path: crops whose answer the mirror average changes (the
    astronaut's node crop with a seeded patch painted over) are right with --tta and wrong
    without when their labels are the averaged answers, computed here."""
    from fer_ros.emotion_classifier import open_model
    from training.data import Split

    frame = astronaut_bgr()
    det = max(make_face_detector({}).detect(frame), key=lambda d: d.w * d.h)
    crop = to_model_input([node_crop(frame, det)])[0]
    rng = np.random.default_rng(0)
    patched = []
    for _ in range(200):
        (y, x), (h, w) = rng.integers(0, 40, 2), rng.integers(8, 30, 2)
        one = crop.copy()
        one[y:y + h, x:x + w] = rng.integers(0, 255)
        patched.append(one)
    batch = np.stack(patched)
    model = open_model(evaluate.DEFAULT_MODEL)
    plain = model(batch)
    mirrored = (plain + model(np.ascontiguousarray(batch[:, :, ::-1]))) / 2
    changed = np.nonzero(plain.argmax(1) != mirrored.argmax(1))[0]
    if not len(changed):
        pytest.skip("no patched crop whose answer the mirror average changes")
    names = evaluate.model_class_names(evaluate.DEFAULT_MODEL, None)
    split = Split(np.zeros((0, 48, 48), np.uint8), mirrored[changed].argmax(1), tuple(names))
    inputs = [batch[i] for i in changed]
    assert evaluate.evaluate_detector_path(evaluate.DEFAULT_MODEL, split, inputs,
                                           tta=True)["accuracy"] == 1.0
    assert evaluate.evaluate_detector_path(evaluate.DEFAULT_MODEL, split, inputs)["accuracy"] == 0
    out = tmp_path / "tta.json"
    assert evaluate.main(["--photos", str(photo_root / "street"), "--tta",
                          "--json", str(out)]) == 0
    assert json.loads(out.read_text())["photos"]["street"][NODE_CROP]["tta"] is True
