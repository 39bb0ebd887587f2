"""Face recall and new-face latency of reported boxes against a clip's ground truth.

A true face counts on a frame once it is fully in view (as ``FaceTruth.required`` of the
sample clip).  It is found when a reported box has its centre within 30 % of the true side
from the true centre and a side within 40 % of the true side (the tolerance of the sample
clip's recall test); each reported box finds at most one face.

Recall = found / counted over all frames.  New-face latency, per appearance (ground-truth id):
first frame it is found - first frame it counts, in ms of clip time (frame index / fps);
appearances never found are listed separately.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

COUNTED_VISIBLE = 0.999
POS_TOL = 0.3
SIZE_TOL = 0.4

Box = Sequence[float]


def finds(reported: Box, true: Box) -> bool:
    """Does the reported (x, y, w, h) box find the true one?"""
    x, y, w, h = true
    rx, ry, rw, rh = reported
    return (abs(rx + rw / 2 - (x + w / 2)) <= POS_TOL * w
            and abs(ry + rh / 2 - (y + h / 2)) <= POS_TOL * h
            and abs(rw - w) <= SIZE_TOL * w)


def evaluate(truth_frames, reported_frames: Sequence[Sequence[Box]], fps: float
             ) -> dict[str, object]:
    """Recall and new-face latency over the frames both lists have.

    ``truth_frames[i]``: the true faces of frame i (objects with ``id``, ``box``,
    ``visible``); ``reported_frames[i]``: the boxes reported for frame i.
    """
    counted = found = 0
    first_counted: dict[int, int] = {}
    first_found: dict[int, int] = {}
    frames_found: dict[int, int] = {}
    for i, (truths, reported) in enumerate(zip(truth_frames, reported_frames)):
        free = list(reported)
        for face in truths:
            if face.visible < COUNTED_VISIBLE:
                continue
            counted += 1
            first_counted.setdefault(face.id, i)
            hit = next((k for k, box in enumerate(free) if finds(box, face.box)), None)
            if hit is not None:
                free.pop(hit)
                found += 1
                first_found.setdefault(face.id, i)
                frames_found[face.id] = frames_found.get(face.id, 0) + 1
    lat = np.array([(first_found[k] - first_counted[k]) * 1000.0 / fps
                    for k in first_found], float)
    return {
        "faces_counted": counted,
        "faces_found": found,
        "recall_percent": 100.0 * found / counted if counted else float("nan"),
        "appearances": len(first_counted),
        "appearances_found": len(first_found),
        "never_found": sorted(set(first_counted) - set(first_found)),
        "frames_found_by_id": {str(k): frames_found[k] for k in sorted(frames_found)},
        "latency_by_id_ms": {str(k): (first_found[k] - first_counted[k]) * 1000.0 / fps
                             for k in sorted(first_found)},
        "new_face_latency_ms": {
            "n": int(lat.size),
            "mean": float(lat.mean()) if lat.size else float("nan"),
            "p95": float(np.percentile(lat, 95)) if lat.size else float("nan"),
            "max": float(lat.max()) if lat.size else float("nan"),
        },
    }
