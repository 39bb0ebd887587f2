"""Component timings, one call at a time in this process: detector time per 640x480 frame
(blazeface, haar), classifier time per face (Keras, LiteRT float32, LiteRT int8; batch 1 and
batch N), and the per-frame conversions the nodes make (Image message <-> NumPy, rclpy
serialisation, preprocessing, drawing, JPEG).
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import numpy as np

from benchlib.environment import REPO, log
from benchlib.metrics import latency_summary
from fer_ros.face_detection import DETECTOR_NAMES
from training.cost import PACED_RATE_HZ, Timings, time_calls, time_paced

MODEL_FILES = {"keras": "emotion_cnn.keras", "tflite": "emotion_cnn.tflite",
               "int8": "emotion_cnn_int8.tflite"}


def find_models(model_dir: Path | None = None) -> dict[str, Path]:
    """{kind: path} of the emotion models with their card in ``model_dir`` (default models/)."""
    d = Path(model_dir) if model_dir else REPO / "models"
    return {k: d / f for k, f in MODEL_FILES.items()
            if (d / f).is_file() and (d / (f + ".json")).is_file()}


def _ms(times: Timings, per: int = 1) -> dict[str, float]:
    s = latency_summary([t / per for t in times])
    return {"median_ms": s["p50_ms"], "p95_ms": s["p95_ms"], "mean_ms": s["mean_ms"],
            "cpu_ms": 1000.0 * getattr(times, "cpu_s", float("nan")) / per, "n": s["n"]}


def bench_components(clips: list, models: dict[str, Path], seconds: float,
                     detectors=DETECTOR_NAMES, num_threads: int = 2
                     ) -> dict[str, Any]:
    import cv2

    from fer_ros import sample_clip
    from fer_ros.face_crop import node_crop
    from fer_ros.face_detection import make_detector
    from fer_ros.preprocessing import to_model_input

    out: dict[str, Any] = {"detectors": [], "classifiers": [], "conversions": []}
    frames = {c.label: list(sample_clip.read_frames(c.path, max_frames=90)) for c in clips}

    # -- detectors: time per 640x480 frame, cycling through the clip's frames
    for name in detectors:
        try:
            det = make_detector(name)
        except Exception as exc:  # noqa: BLE001 - reported in the table, go on
            out["detectors"].append({"detector": name, "error": str(exc)})
            continue
        for label, fr in frames.items():
            it = iter(range(10**9))
            found: list[int] = []

            def call():
                found.append(len(det.detect(fr[next(it) % len(fr)])))

            t = time_calls(call, min_seconds=seconds)
            out["detectors"].append({"detector": name, "clip": label,
                                     "frame": f"{fr[0].shape[1]}x{fr[0].shape[0]}",
                                     "faces_found": float(np.mean(found)), **_ms(t)})
            log(f"  detector {name:9s} {label}: {out['detectors'][-1]['median_ms']:.1f} "
                "ms/frame")

    # -- real face crops: the frame where BlazeFace finds the most faces (first 30 per clip)
    det = make_detector("blazeface")
    frame, crops = next(iter(frames.values()))[0], []
    for fr in frames.values():
        for f in fr[:30]:
            found_crops = [node_crop(f, d) for d in det.detect(f)]
            if len(found_crops) > len(crops):
                frame, crops = f, found_crops
    if not crops:
        crops = [frame[100:220, 100:220]]
    batch_n = to_model_input(crops)
    batch_1 = batch_n[:1]

    # -- classifiers: per face, batch 1 and batch N
    from fer_ros.emotion_classifier import load_classifier

    for kind in ("keras", "tflite", "int8"):
        path = models.get(kind)
        if path is None:
            out["classifiers"].append({"model": kind, "error": "not available"})
            continue
        try:
            t_load = time.perf_counter()
            clf = load_classifier(path, num_threads=num_threads)
            load_s = time.perf_counter() - t_load
        except Exception as exc:  # noqa: BLE001 - reported in the table, go on
            out["classifiers"].append({"model": kind, "file": str(path), "error": str(exc)})
            continue
        for b in (batch_1, batch_n):
            t = time_calls(lambda: clf.predict(b), min_seconds=seconds)
            paced = time_paced(lambda: clf.predict(b))
            out["classifiers"].append({
                "model": kind, "file": path.name, "batch": len(b), "load_s": load_s,
                "num_threads": num_threads, "per_call": _ms(t), "per_face": _ms(t, per=len(b)),
                "paced_rate_hz": PACED_RATE_HZ, "paced_per_face": _ms(paced, per=len(b)),
                "size_mib": path.stat().st_size / 2**20})
            c = out["classifiers"][-1]
            log(f"  classifier {kind:6s} batch {len(b)}: {c['per_face']['median_ms']:.2f} "
                f"ms/face back to back, {c['paced_per_face']['median_ms']:.2f} at "
                f"{PACED_RATE_HZ:g} calls/s")
        clf = None  # free the model before the next one is loaded

    # -- conversions the nodes do per frame
    from fer_ros.msg import FaceDetection, FaceDetectionArray
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image

    from fer_ros.drawing import AnnotatedFace, draw_faces
    from fer_ros.image_encoding import encode_jpeg
    from fer_ros.ros_image import bgr_to_image_msg, image_msg_to_bgr

    msg = bgr_to_image_msg(frame)
    raw = serialize_message(msg)
    faces_msg = FaceDetectionArray()
    for c in crops:
        faces_msg.faces.append(FaceDetection())
        faces_msg.crops.append(bgr_to_image_msg(np.ascontiguousarray(c)))
    faces_raw = serialize_message(faces_msg)
    ann = [AnnotatedFace(box=(10 + 60 * i, 10, 50, 50), label="happy", confidence=0.9,
                         face_id=i + 1) for i in range(len(crops))]
    convs = [
        ("bgr_to_image_msg 640x480 (camera, annotator)", lambda: bgr_to_image_msg(frame)),
        ("image_msg_to_bgr 640x480 (detector, annotator)", lambda: image_msg_to_bgr(msg)),
        ("serialize Image 640x480 (every publish)", lambda: serialize_message(msg)),
        ("deserialize Image 640x480 (every subscriber)",
         lambda: deserialize_message(raw, Image)),
        (f"serialize FaceDetectionArray, {len(crops)} crops",
         lambda: serialize_message(faces_msg)),
        (f"deserialize FaceDetectionArray, {len(crops)} crops",
         lambda: deserialize_message(faces_raw, FaceDetectionArray)),
        (f"to_model_input, {len(crops)} crops", lambda: to_model_input(crops)),
        (f"draw_faces, {len(crops)} faces", lambda: draw_faces(frame, ann)),
        ("encode_jpeg 640x480 q80 (annotator)", lambda: encode_jpeg(frame, 80)),
        ("cv2 VideoCapture.read 640x480 mp4v (camera)", None),
    ]
    cap = cv2.VideoCapture(str(clips[0].path))

    def read():
        ok, _ = cap.read()
        if not ok:
            cap.set(cv2.CAP_PROP_POS_FRAMES, 0)

    for name, fn in convs:
        t = time_calls(fn or read, min_seconds=min(seconds, 1.0))
        out["conversions"].append({"step": name, **_ms(t)})
    cap.release()
    return out
