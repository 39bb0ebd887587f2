#!/usr/bin/env python3
"""What the tracker's appearance gate (fer_ros.face_tracking.appearance) costs and how well it
tells people.

On the hard clip (scripts/benchlib/hard_clip.py, rendered into bench_out/clips/ when
missing), every frame goes through two face searches built from the same parameters, one
with the appearance gate (default tracker_min_similarity) and one by position alone (-1),
alternating which runs first, so both see the same load.  It prints

* the time per frame of each and the time per face of the descriptor (the ratio is what
  travels between machines; the CPU is named),
* for each true face, the cosine similarity of its descriptor to the running average of its
  earlier ones (the same person: the gate must stay below the lowest), and
* the ids against the ground truth for both (benchlib.metrics.identity_summary).

Then the same ids on the hard clip's plan rendered with seven people instead of the one
portrait (scikit-image's astronaut and cameraman, five faces of its LFW subset; face k wears
person k mod 7), and on a "handover" clip: a cut every second, each scene's one or two new
people starting where the previous scene's faces ended (the case of issue 19's held-back
clip).

With ``--photos DIR`` (folders holding a manifest.json of [[relative path, label], ...] whose
file names start with the subject's id, e.g. S052_001_... or 01F_AN_C...) it also prints, for
a few thresholds, how many same-person and different-person photo pairs pass the gate.

    python scripts/measure_appearance.py [--photos /path/to/photos/nimstim ...]
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import time
from pathlib import Path

import cv2
import numpy as np
from benchlib import hard_clip
from benchlib.environment import OUT_DIR, machine_info
from benchlib.metrics import identity_summary
from benchlib.recall import COUNTED_VISIBLE, finds

from fer_ros.face_tracking.appearance import describe_face, describe_faces
from fer_ros.face_tracking.search import SEARCH_PARAMS, make_face_search

GATE = next(p.default for p in SEARCH_PARAMS if p.name == "tracker_min_similarity")
BLEND = 0.2     # as the tracker's running average


def hard_clip_figures() -> None:
    path, sidecar = hard_clip.ensure(OUT_DIR / "clips")
    fps, truth = hard_clip.load_truth(sidecar)
    cuts = hard_clip.scene_cuts(sidecar)
    searches = {"appearance": make_face_search({}),
                "position": make_face_search({"tracker_min_similarity": -1.0})}
    seconds = dict.fromkeys(searches, 0.0)
    reported = {name: ([], []) for name in searches}
    describe_s, faces = 0.0, 0
    average: dict[int, np.ndarray] = {}
    same: list[float] = []
    cap = cv2.VideoCapture(str(path))
    i = 0
    while True:
        ok, bgr = cap.read()
        if not ok:
            break
        order = list(searches) if i % 2 == 0 else list(searches)[::-1]
        for name in order:
            t0 = time.perf_counter()
            out = searches[name].process(bgr, i / fps)
            seconds[name] += time.perf_counter() - t0
            reported[name][0].append([d.box for d in out.detections])
            reported[name][1].append([t.id for t in out.tracks])
        t0 = time.perf_counter()
        looks = describe_faces(bgr, out.detections)
        describe_s += time.perf_counter() - t0
        faces += len(looks)
        free = [(d.box, look) for d, look in zip(out.detections, looks)]
        for face in truth[i]:
            k = next((k for k, (box, _) in enumerate(free) if finds(box, face.box)), None)
            if face.visible < COUNTED_VISIBLE or k is None:
                continue
            look = free.pop(k)[1]
            if look is None:
                continue
            if face.id in average:
                same.append(float(average[face.id] @ look))
                blended = average[face.id] + BLEND * (look - average[face.id])
                look = blended / np.linalg.norm(blended)
            average[face.id] = look
        i += 1
    cap.release()
    m = machine_info()
    print(f"hard clip, {i} frames; {m['cpu_model']}, load average {m['load_average']}")
    for name in searches:
        print(f"  face search with {name:10s}: {1e3 * seconds[name] / i:.2f} ms per frame")
    print(f"  ratio appearance / position: {seconds['appearance'] / seconds['position']:.3f}; "
          f"descriptor {1e3 * describe_s / max(faces, 1):.3f} ms per face "
          f"({faces / i:.2f} faces per frame)")
    s = np.array(same)
    print(f"  same person vs its running average: {s.size} looks, min {s.min():.3f}, "
          f"p0.1 / p1 / p50 {np.percentile(s, 0.1):.3f} / {np.percentile(s, 1):.3f} / "
          f"{np.percentile(s, 50):.3f} (gate {GATE:g})")
    for name, (boxes, ids) in reported.items():
        summary = identity_summary(truth, boxes, ids, cuts)
        print(f"  ids by {name:10s}: {summary['shared_ids']} shared by two people "
              f"({summary['shared_across_cut']} across a cut, {summary['handovers']} handovers), "
              f"{summary['id_switches']} id "
              f"switches, {summary['track_ids']} ids for {summary['people']} people")


def people_heads(detector) -> list[tuple[np.ndarray, np.ndarray]]:
    """Seven heads for hard_clip.render: the astronaut's own, the cameraman's, 5 LFW faces."""
    from skimage import data

    heads = [hard_clip._head_patch(hard_clip._Photos())]
    lfw = data.lfw_subset()                 # the first 100 are faces, 25x25 grey
    photos = [data.camera()] + [cv2.resize((255 * lfw[i]).astype(np.uint8), (200, 200),
                                           interpolation=cv2.INTER_CUBIC)
                                for i in (0, 10, 40, 60, 80)]
    for photo in photos:
        bgr = cv2.cvtColor(photo, cv2.COLOR_GRAY2BGR)
        pad = max(bgr.shape[:2])            # room around a tight face crop
        padded = cv2.copyMakeBorder(bgr, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
        middle = np.array(padded.shape[1::-1]) / 2
        face = min(detector.detect(padded), key=lambda d: float(np.hypot(
            d.x + d.w / 2 - middle[0], d.y + d.h / 2 - middle[1])))
        heads.append(hard_clip.head_from_photo(bgr, (face.x - pad, face.y - pad, face.w,
                                                     face.h)))
    return heads


def handover_plan(scenes, seed: int = 1):
    """The scenes' backgrounds, one second each, with one or two faces drifting slowly from
    where the previous scene's faces ended (new people: new ids in the ground truth)."""
    rng = np.random.default_rng(seed)
    places = [(200.0, 200.0, 110.0), (450.0, 230.0, 90.0)]
    out, frame, next_id = [], 0, 1
    for k, base in enumerate(scenes):
        faces = []
        for j, (cx, cy, side) in enumerate(places[:1 + k % 2]):
            vx, vy = (float(v) for v in rng.uniform(-25, 25, 2))
            faces.append(hard_clip.FacePlan(next_id, 0.0, cx, cy, vx, vy, side, 0.0,
                                            bool(rng.random() < 0.5),
                                            float(rng.uniform(0.8, 1.2)),
                                            float(rng.uniform(-10, 10)), 0.0))
            next_id += 1
            places[j] = (cx + vx, cy + vy, side)
        out.append(dataclasses.replace(base, first_frame=frame, num_frames=hard_clip.FPS,
                                       faces=tuple(faces), defocus=0.0))
        frame += hard_clip.FPS
    return out


def people_figures() -> None:
    searches = {"appearance": {}, "position": {"tracker_min_similarity": -1.0}}
    heads = people_heads(make_face_search({}).detector)
    base = hard_clip.plan()
    for what, scenes in (("hard clip with 7 people", base),
                         ("handover clip, 7 people", handover_plan(base))):
        truth = hard_clip.truth(scenes)
        frames = list(hard_clip.render(scenes, heads))
        print(f"{what}: {len(frames)} frames")
        for name, values in searches.items():
            search = make_face_search(values)
            boxes, ids = [], []
            for i, bgr in enumerate(frames):
                out = search.process(bgr, i / hard_clip.FPS)
                boxes.append([d.box for d in out.detections])
                ids.append([t.id for t in out.tracks])
            s = identity_summary(truth, boxes, ids, [sc.first_frame for sc in scenes])
            print(f"  ids by {name:10s}: {s['shared_ids']} shared by two people "
                  f"({s['handovers']} handovers), {s['id_switches']} id switches, "
                  f"{s['track_ids']} ids for {s['people']} people")


def photo_figures(folder: Path) -> None:
    search = make_face_search({})
    looks = []
    for relative, _label in json.loads((folder / "manifest.json").read_text()):
        image = cv2.imread(str(folder / relative), cv2.IMREAD_COLOR)
        if image is None:
            continue
        k = 640 / image.shape[1]
        image = cv2.resize(image, (640, round(image.shape[0] * k)), interpolation=cv2.INTER_AREA)
        found = search.detector.detect(image)
        if found:
            look = describe_face(image, max(found, key=lambda d: d.w * d.h))
            if look is not None:
                looks.append((Path(relative).name.split("_")[0], look))
    same, other = [], []
    for (a, x), (b, y) in itertools.combinations(looks, 2):
        (same if a == b else other).append(float(x @ y))
    same_a, other_a = np.array(same), np.array(other)
    print(f"{folder}: {len(looks)} faces, {len(same)} same-person and {len(other)} "
          "different-person pairs")
    for gate in sorted({0.4, 0.5, 0.6, 0.7, GATE}):
        print(f"  tracker_min_similarity {gate:g}: same-person pairs kept "
              f"{100 * np.mean(same_a >= gate):.1f} %, different-person pairs refused "
              f"{100 * np.mean(other_a < gate):.1f} %")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--photos", type=Path, nargs="*", default=[],
                        help="folders of portraits with a manifest.json (see above)")
    args = parser.parse_args()
    hard_clip_figures()
    people_figures()
    for folder in args.photos:
        photo_figures(folder)


if __name__ == "__main__":
    main()
