"""emotion node: faces (FaceDetectionArray) -> emotions (EmotionArray).

Classifies the face crops with :mod:`fer_ros.emotion_classifier` and smooths the scores per
track id with :class:`fer_ros.smoothing.EmotionSmoother`, using the header stamps (not the
wall clock). Untracked faces (id 0) get the raw scores. With ``classify_interval_ms`` a
tracked face's latest scores are reused until they are that old
(:class:`fer_ros.classify_interval.LatestScores`). The published header is the source
image's, so the annotator (or any consumer) can match results to frames.

A managed (lifecycle) node: ``configure`` loads the model (``model_path``; empty = the
shipped int8 model, see :mod:`fer_ros.model_files`) and creates the ``emotions`` lifecycle
publisher; a missing or corrupt model makes configure fail with one clear message naming
the path (the node stays unconfigured; with ``autostart``, the default, the executable exits
with it).
``activate`` subscribes to ``faces``, ``deactivate`` unsubscribes, ``cleanup`` releases the
model and the publisher.

With ``hri`` (read-only, default false) it also publishes the ROS4HRI (REP-155) face topics
(:mod:`fer_ros.hri`): configure checks that hri_msgs is installed and every model class has a
REP-155 expression (else it fails with one line saying why), the topics exist while the node is
active, and a face's topics while it is a confirmed track.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np

from fer_ros.budget import WorkBudget, max_image_pixels_spec, release_freed_memory
from fer_ros.classify_interval import LatestScores
from fer_ros.diagnostics import check_thresholds, diagnostics_specs
from fer_ros.messages import emotions_to_msg, stamp_seconds
from fer_ros.model_files import load_model
from fer_ros.msg import EmotionArray, FaceDetectionArray
from fer_ros.nodes.lifecycle import FerLifecycleNode
from fer_ros.nodes.runner import run, serve
from fer_ros.parameters import (
    ParamSpec,
    check_values,
    lifecycle_specs,
    make_qos,
    subscription_specs,
)
from fer_ros.preprocessing import to_model_input
from fer_ros.ros_image import ImageEncodingError, image_msg_to_bgr
from fer_ros.smoothing import EmotionSmoother

#: topics (relative names) -> message type; with ``hri`` also fer_ros.hri.TOPICS (absolute)
PUBLISHES = {"emotions": "fer_ros/msg/EmotionArray"}
SUBSCRIBES = {"faces": "fer_ros/msg/FaceDetectionArray"}

PARAMS = (
    ParamSpec("model_path", "", "Emotion model (.tflite or .keras) with its card "
              "'<model>.json' beside it. Empty = the shipped models/emotion_cnn_int8.tflite, "
              "else models/emotion_cnn.tflite (share/fer_ros when installed, else the source "
              "tree); a relative path is "
              "looked up in the working directory, then in share/fer_ros.", read_only=True),
    ParamSpec("num_threads", 2, "Inference threads.", read_only=True, min=1, max=64),
    ParamSpec("time_constant_s", 0.5, "Smoothing time constant in seconds (from header "
              "stamps); 0 = publish the raw scores.", min=0.0, max=600.0),
    ParamSpec("switch_margin", 0.1, "The smoothed label only changes when the new class "
              "leads the current one by this much.", min=0.0, max=0.99),
    ParamSpec("classify_interval_ms", 0.0, "A tracked face is classified again once its "
              "latest scores are this old (header stamps); on the frames between, those "
              "scores are reused (raw_*) and held by the smoothing. A new face is classified "
              "at once, an untracked one (id 0) on every frame. 0 = every face on every "
              "frame.",
              min=0.0, max=10000.0),
    ParamSpec("max_faces", 32, "At most this many faces of one message are classified (in "
              "message order); the rest are counted as faces_over_limit and logged.",
              min=1, max=10000),
    ParamSpec("frame_budget_ms", 200.0, "A message whose classification would take longer "
              "than this (estimated from the measured time per face) is dropped and counted "
              "as dropped_over_budget instead of delaying the newer ones.", min=1.0,
              max=60000.0),
    max_image_pixels_spec("face crops"),
    ParamSpec("hri", False, "Also publish the ROS4HRI (REP-155) topics: /humans/faces/tracked "
              "and, per tracked face, /humans/faces/<id>/roi, cropped, aligned and expression. "
              "Needs hri_msgs (ros-<distro>-hri-msgs); cropped needs the face_detector's "
              "box_crops.", read_only=True),
) + subscription_specs(sensor_input=False) + lifecycle_specs() + diagnostics_specs()


def check_params(values: dict[str, Any]) -> list[str]:
    """Pure validation of the emotion parameters (complete or partial set)."""
    problems = check_values(PARAMS, values) + check_thresholds(values)
    path = values.get("model_path")
    if isinstance(path, str) and path and not path.endswith((".tflite", ".keras")):
        problems.append(f"model_path: '{path}' is neither a .tflite nor a .keras file")
    return problems


class EmotionNode(FerLifecycleNode):
    PARAMS = PARAMS
    DIAG_FACES = "faces"
    WORK = "emotion inference"

    def __init__(self, node_name: str = "emotion", **kwargs: Any) -> None:
        super().__init__(node_name, **kwargs)
        self.classifier: Any = None
        self.class_names: list[str] = []
        self._smoother: EmotionSmoother | None = None
        self._latest = LatestScores()
        self._work: WorkBudget | None = None
        self._noted: dict[str, float] = {}      # counter -> when _note last logged it
        self._hri: Any = None        # fer_ros.hri.ros_output.HriOutput when configured with hri
        self._start(check_params, self._on_params_changed)

    # -- lifecycle -------------------------------------------------------------------------
    def _lc_configure(self) -> None:
        values = self.param_values()
        classifier = load_model(values["model_path"], values["num_threads"])
        self.classifier = classifier
        self.class_names = list(classifier.class_names)
        self._smoother = self._make_smoother(values)
        self._latest = LatestScores(values["classify_interval_ms"] / 1000.0)
        self._work = WorkBudget(values["frame_budget_ms"] / 1000.0)
        self._pub = self.create_lifecycle_publisher(EmotionArray, "emotions",
                                                    make_qos("reliable", 5))
        if values["hri"]:
            from fer_ros.hri.ros_output import HriOutput

            self._hri = HriOutput(self, self.class_names, make_qos("reliable", 5))
        self.get_logger().info(f"configured: {classifier.model_path} "
                               f"({', '.join(self.class_names)})")

    def _lc_activate(self) -> None:
        if self._hri is not None:
            self._hri.open()
        self._subscribe_input(FaceDetectionArray, "faces")
        self.get_logger().info(f"active: classifying {self._sub.topic_name} -> "
                               f"{self._pub.topic_name}")

    def _lc_deactivate(self) -> None:
        super()._lc_deactivate()
        if self._hri is not None:     # the REP-155 topics exist while the node is active
            self._hri.close()

    def _lc_cleanup(self) -> None:
        self._release_publisher()
        self._hri = None
        self.classifier = None
        self._smoother = None

    def diagnostics_values(self) -> list[tuple[str, Any]]:
        model = getattr(self.classifier, "model_path", None)
        return super().diagnostics_values() + [("model", str(model) if model else "")]

    def _make_smoother(self, values: dict[str, Any]) -> EmotionSmoother:
        return EmotionSmoother(len(self.class_names),
                               time_constant_s=float(values["time_constant_s"]),
                               switch_margin=float(values["switch_margin"]))

    def _on_params_changed(self, changed: dict[str, Any]) -> None:
        if "frame_budget_ms" in changed and self._work is not None:
            self._work.budget_s = float(changed["frame_budget_ms"]) / 1000.0
        if "classify_interval_ms" in changed:
            self._latest.interval_s = float(changed["classify_interval_ms"]) / 1000.0
        if {"time_constant_s", "switch_margin"} & changed.keys():
            values = {n: self.param(n) for n in ("time_constant_s", "switch_margin")}
            if self.classifier is not None:     # else configure builds it
                self._smoother = self._make_smoother(values)

    # -- processing ------------------------------------------------------------------------
    def _process(self, msg: FaceDetectionArray) -> None:
        pub, names = self._pub, self.class_names
        smoother = self._smoother
        if len(msg.crops) != len(msg.faces):
            self.reject("faces message", f"{len(msg.faces)} faces but {len(msg.crops)} crops")
            return
        n = min(len(msg.faces), int(self.param("max_faces")))
        if n < len(msg.faces):
            self._note("faces_over_limit", len(msg.faces) - n,
                       f"faces message with {len(msg.faces)} faces: classifying the first {n} "
                       "(max_faces)")
        work = self._work
        if work is not None and not work.fits(n):
            self._note("dropped_over_budget", 1,
                       f"dropped a faces message with {n} faces: about "
                       f"{work.estimate(n) * 1000:.0f} ms of work, over frame_budget_ms")
            return
        t0 = time.perf_counter()
        faces, crops, kept, bad = [], [], [], []
        max_pixels = int(self.param("max_image_pixels"))
        for i in range(n):
            crop_msg = msg.crops[i]
            try:
                crops.append(image_msg_to_bgr(crop_msg, max_pixels))
            except ImageEncodingError as exc:
                bad.append(f"crop {i}: {exc}")
                continue
            faces.append(msg.faces[i])
            kept.append(i)
        if bad and not faces:       # nothing usable left: the message is rejected
            self.reject("faces message", bad[0])
            return
        if bad:                     # the other faces are still classified and published
            self._note("faces_skipped", len(bad), f"skipped {len(bad)} of {n} faces of a "
                       f"faces message: {bad[0]}")
        stamp_s = stamp_seconds(msg.header)
        raw, classified = self._latest.for_frame([int(face.id) for face in faces], stamp_s,
                                                 crops, self._classify)
        self.count("classified", classified)
        smoothed = [smoother.update(int(face.id), stamp_s, raw[i]) if face.id != 0 else None
                    for i, face in enumerate(faces)]
        out, clamped = emotions_to_msg(msg.header, names, msg.tracked_ids, faces, raw,
                                       smoothed)
        if clamped:
            self.count("scores_clamped", clamped)
        alive = set(int(i) for i in msg.tracked_ids) | {int(f.id) for f in msg.faces}
        smoother.forget(alive)
        self._latest.forget(alive)
        pub.publish(out)
        if self._hri is not None:
            self._publish_hri(msg, kept, crops, out)
        if work is not None and classified:
            work.record(classified, time.perf_counter() - t0)
        self.count("processed")
        self.count("faces", len(out.faces))
        if n < len(msg.faces):
            del msg                     # the crops of a message over max_faces, freed now
            release_freed_memory()

    def _classify(self, crops: list) -> np.ndarray:
        """The CNN's scores (N, C) of face crops."""
        return self.classifier.predict(to_model_input(crops))

    def _publish_hri(self, msg: FaceDetectionArray, kept: list[int], crops: list,
                     out: EmotionArray) -> None:
        """The REP-155 topics of one faces message: ``kept[j]`` is the index in ``msg`` of the
        face classified as ``out.faces[j]`` from the upright crop ``crops[j]``."""
        from fer_ros.hri.ros_output import HriFace

        boxes: list = [None] * len(kept)
        if msg.box_crops and len(msg.box_crops) != len(msg.faces):
            self._note("hri_box_crops_mismatch", 1, f"hri: a faces message with "
                       f"{len(msg.faces)} faces but {len(msg.box_crops)} box crops: no cropped")
        elif msg.box_crops:
            max_pixels = int(self.param("max_image_pixels"))
            for j, i in enumerate(kept):
                try:
                    boxes[j] = image_msg_to_bgr(msg.box_crops[i], max_pixels)
                except ImageEncodingError as exc:
                    self._note("hri_box_crops_skipped", 1, f"hri: box crop {i}: {exc}")
        elif kept:
            self._note("hri_no_box_crops", 1, "hri: the faces messages carry no box crops, so "
                       "/humans/faces/<id>/cropped stays empty (set the face_detector's "
                       "box_crops parameter to true)")
        if kept and (msg.image_width < 1 or msg.image_height < 1):
            self._note("hri_no_roi", len(kept), f"hri: a faces message with image size "
                       f"{msg.image_width}x{msg.image_height}: no roi")
        untracked = sum(1 for f in out.faces if f.face_id == 0)
        if untracked:
            self._note("hri_untracked_faces", untracked, "hri: faces without a track id "
                       "(face_detector tracking off) are not published under /humans/faces")
        faces = [HriFace(emotion, crops[j], boxes[j]) for j, emotion in enumerate(out.faces)]
        self._hri.publish(msg.header, int(msg.image_width), int(msg.image_height),
                          msg.tracked_ids, faces)

    def _note(self, counter: str, n: int, message: str) -> None:
        """Count ``n`` items left out of the work and say why (throttled per counter: one
        call site, several kinds of warning)."""
        self.count(counter, n)
        now = time.monotonic()
        if now - self._noted.get(counter, -math.inf) >= self.log_throttle_s:
            self._noted[counter] = now
            self.get_logger().warning(f"{message} ({counter} so far: "
                                      f"{self.stats()[counter]})")


def main(argv: list[str] | None = None) -> int:
    return run("emotion", serve(EmotionNode), argv)


if __name__ == "__main__":
    raise SystemExit(main())
