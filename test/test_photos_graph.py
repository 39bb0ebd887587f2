"""scripts/photos_through_graph.py: a tiny photo set through the running pipeline (real
graph) agrees with evaluate.py --photos."""

import json

import cv2
import numpy as np
import photos_through_graph
import pytest

from training import evaluate

skdata = pytest.importorskip("skimage.data")


def test_a_photo_set_through_the_graph_scores_as_the_node_path(tmp_path):
    folder = tmp_path / "set"
    (folder / "images").mkdir(parents=True)
    astronaut = cv2.cvtColor(skdata.astronaut(), cv2.COLOR_RGB2BGR)
    cv2.imwrite(str(folder / "images" / "a.png"), astronaut)
    cv2.imwrite(str(folder / "images" / "b.png"), np.full((300, 400, 3), 90, np.uint8))
    (folder / "manifest.json").write_text(json.dumps([["images/a.png", "happy"],
                                                      ["images/b.png", "sad"]]))
    out = tmp_path / "graph.json"
    assert photos_through_graph.main(["--photos", str(folder), "--fps", "2",
                                      "--timeout", "120", "--json", str(out)]) == 0
    graph = json.loads(out.read_text())["set"]
    node_path = evaluate.evaluate_photos(evaluate.DEFAULT_MODEL, folder)["set"]
    node_path = next(iter(node_path.values()))
    assert graph["num_images"] == 2 and graph["not_found"] == 1 == node_path["not_found"]
    assert graph["accuracy"] == node_path["accuracy"]
    assert graph["confusion_matrix"] == node_path["confusion_matrix"]
