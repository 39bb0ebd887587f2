"""Face detection on bgr8 frames: MediaPipe BlazeFace (default) or an OpenCV Haar cascade.

ROS-free: plain NumPy/OpenCV plus ai-edge-litert.

Public API (see docs/DESIGN.md)::

    det = make_detector("blazeface", score_threshold=0.5, min_face_size=20, max_faces=10)
    for d in det.detect(bgr):          # full-frame search: list[Detection], best first
        face = crop(bgr, d)            # a view of the box
    det.refine(bgr, [d.box for d in previous])   # BlazeFace only: close-up look per box,
                                                 # list[Detection | None] aligned with boxes
    det.detect(bgr, known=boxes)                 # search for faces not in ``boxes`` only

``fer_ros.face_tracking.search`` decides which of the two steps each frame gets.

Detectors: ``BlazeFaceDetector`` (blazeface.py, networks in ssd.py: see there) and
``HaarFaceDetector`` (haar.py); common.py holds what they share.  A detector object keeps
its interpreter and buffers; it is not thread-safe (use one per thread).
"""

from __future__ import annotations

from fer_ros.face_detection.blazeface import REFINE_CALIBRATION, BlazeFaceDetector
from fer_ros.face_detection.common import Detection, FaceDetectorError, crop
from fer_ros.face_detection.haar import HaarFaceDetector
from fer_ros.face_detection.ssd import BLAZEFACE_MODELS, blazeface_model_path

__all__ = [
    "Detection",
    "FaceDetectorError",
    "BlazeFaceDetector",
    "HaarFaceDetector",
    "DETECTOR_NAMES",
    "BLAZEFACE_MODELS",
    "make_detector",
    "crop",
    "blazeface_model_path",
    "REFINE_CALIBRATION",
]

DETECTOR_NAMES = ("blazeface", "haar")


def make_detector(name: str = "blazeface", score_threshold: float = 0.5,
                  min_face_size: int = 20, max_faces: int = 10, **kwargs):
    """Create a face detector: ``"blazeface"`` (default) or ``"haar"``.

    ``"blazeface:short_range"`` / ``"blazeface:back"`` pick another BlazeFace variant (same as
    ``model=...``).  Extra keyword arguments go to the detector class.  Raises
    FaceDetectorError for an unknown name or a model that cannot be loaded.
    """
    base, _, variant = str(name).strip().lower().partition(":")
    if base == "blazeface":
        if variant:
            kwargs.setdefault("model", variant)
        return BlazeFaceDetector(score_threshold, min_face_size, max_faces, **kwargs)
    if base == "haar" and not variant:
        return HaarFaceDetector(score_threshold, min_face_size, max_faces, **kwargs)
    raise FaceDetectorError(f"unknown face detector {name!r}; choose one of "
                            f"{', '.join(DETECTOR_NAMES)}")
