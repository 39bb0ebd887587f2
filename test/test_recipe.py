"""training/recipe.py on a tiny fixture made here: re-framing, two stages, export with the
photo figures, and a second run that skips what is finished."""

import json
import os

import cv2
import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
keras = pytest.importorskip("keras", reason="Keras/TensorFlow not installed")
skdata = pytest.importorskip("skimage.data")

from training import recipe, train
from training.model import ARCHITECTURES, CLASS_NAMES


def test_recipe_runs_every_stage_to_the_cards_and_resumes(tmp_path):
    astronaut = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    face = cv2.resize(cv2.cvtColor(astronaut[53:182, 160:289], cv2.COLOR_BGR2GRAY), (48, 48),
                      interpolation=cv2.INTER_AREA)
    data = tmp_path / "data" / "images"
    for split in ("train", "validation"):
        for label, name in enumerate(CLASS_NAMES):
            folder = data / split / name
            folder.mkdir(parents=True)
            cv2.imwrite(str(folder / "face.png"), np.clip(face.astype(int) + 10 * label, 0, 255))
            cv2.imwrite(str(folder / "flat.png"), np.full((48, 48), 30 * label, np.uint8))
    photos = tmp_path / "photos" / "set"
    photos.mkdir(parents=True)
    cv2.imwrite(str(photos / "a.png"), astronaut)
    (photos / "manifest.json").write_text(json.dumps([["a.png", "happy"]]))
    spec = {"reframe": True,
            "stages": [{"name": "first", "data": "original", "train": ["--batch-size", "8"]},
                       {"name": "second", "init_from": "{work}/first/best.keras",
                        "train": ["--batch-size", "8", "--camera-augment", "on",
                                  "--logit-adjust", "1",
                                  "--teacher", "{work}/first/best.keras"]},
                       {"name": "third", "train": ["--batch-size", "8"],
                        "prune": {"from": "{work}/second/best.keras", "architecture": "slim"}}],
            "export": {"run": "third", "earlier_runs": ["first", "second"]}}
    path = tmp_path / "recipe.json"
    path.write_text(json.dumps(spec))
    work, out = tmp_path / "work", tmp_path / "models"
    argv = ["--recipe", str(path), "--data", str(tmp_path / "data"), "--work", str(work),
            "--out", str(out), "--photos", str(photos.parent), "--epochs", "1"]
    assert recipe.main(argv) == 0
    assert (work / "reframed.npz").is_file()
    state = json.loads((work / "second" / "state.json").read_text())
    assert state["options"]["logit_adjust"] == 1.0
    assert state["options"]["init_from"].endswith("first/best.keras")
    assert state["options"]["teacher"] == [str(work / "first" / "best.keras")]
    state = json.loads((work / "third" / "state.json").read_text())
    assert state["options"]["architecture"] == "slim"
    assert state["options"]["init_from"] == str(work / "third_pruned.keras")
    for name in ("emotion_cnn.keras", "emotion_cnn.tflite", "accuracy.png",
                 "confusion_matrix.png", "training_history.csv"):
        assert (out / name).is_file(), name
    card = json.loads((out / "emotion_cnn.tflite.json").read_text())
    assert card["architecture"].startswith("slim CNN")
    assert card["validation"]["num_images"] == 14
    assert card["training"]["data"].startswith("FER2013 faces re-framed")
    assert card["other_validation"]["fer2013_original_framing"]["num_images"] == 14
    assert card["photos"]["set"]["num_images"] == 1
    assert card["photos"]["set"]["no_face_found"] == 0
    times = json.loads((work / "recipe_times.json").read_text())
    assert set(times) == {"reframe", "first", "second", "third", "export"}
    # a second run skips the finished steps: the runs keep their checkpoints untouched
    checkpoint = (work / "second" / "last.keras").stat().st_mtime_ns
    assert recipe.main(argv) == 0
    assert (work / "second" / "last.keras").stat().st_mtime_ns == checkpoint


@pytest.mark.parametrize("name", ["default.json", "reframed.json", "compact.json", "slim.json",
                                  "equalized.json"])
def test_shipped_recipes_chain_their_stages(name):
    spec = json.loads((recipe.REPO / "training" / "recipes" / name).read_text())
    names = [stage["name"] for stage in spec["stages"]]
    assert spec["export"]["run"] in names
    assert all(run in names for run in spec["export"].get("earlier_runs", []))
    for index, stage in enumerate(spec["stages"]):
        assert stage.get("data", "reframed") in ("original", "reframed")
        if stage.get("data", "reframed") == "reframed":
            assert spec.get("reframe")
        init = stage.get("init_from", "")
        # a stage starts from random weights, a stage before it or a shipped model
        assert not init or init.startswith("{repo}/models/") or any(
            init.startswith(f"{{work}}/{n}/") for n in names[:index])
        if init.startswith("{repo}/"):
            assert (recipe.REPO / init.removeprefix("{repo}/")).is_file()
        if "prune" in stage:
            assert not init and stage["prune"]["architecture"] in ARCHITECTURES
        train.parse_args(["--out", "x", *stage["train"]])     # options train.py knows
