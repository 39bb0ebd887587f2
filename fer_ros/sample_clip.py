"""The built-in sample clip (real faces, public domain) and its generator.  ROS-free.

``sample_clip_path()`` is the clip shipped inside the package: ``fer_ros/data/sample_clip.mp4``
(640x480, 15 fps, 12 s, MPEG-4 part 2 "mp4v", readable by ``cv2.VideoCapture``).

It is rendered deterministically by ``scripts/make_sample_clip.py`` (= ``make_clip``) from
NASA's portrait of astronaut Eileen Collins (public domain; shipped by scikit-image as
``skimage.data.astronaut()``): a virtual camera pans and zooms over a "world" image holding
the portrait and a smaller mirrored copy of it, so the clip shows

* 0-2 s: one large face (~150 px) shrinking to ~110 px,
* 2-6.5 s: zoom out until both faces are small (~37 px and ~22 px),
* 6.5-8.5 s: zoom in on the second (mirrored) face (~70 px),
* 8.5-10 s: pan away; from 10 s to the end: no face at all (false-alarm check).

Because the camera path is known, the true face boxes of every frame are known too:
``ground_truth(frame_index)`` (no rendering, no scikit-image needed).  Boxes follow the
BlazeFace convention (roughly eyebrows-to-chin square).

``make_clip(path, faces=N)`` with N != 2 renders a benchmark variant instead: N portraits in a
grid under a slowly drifting camera (not shipped; e.g. ``--faces 5``).
"""

from __future__ import annotations

import importlib.resources
import math
import pathlib
from collections.abc import Iterator
from dataclasses import dataclass

import cv2
import numpy as np

__all__ = [
    "SAMPLE_CLIP_NAME",
    "FRAME_SIZE",
    "FPS",
    "DURATION_S",
    "ASTRONAUT_FACE_BOX",
    "FaceTruth",
    "sample_clip_path",
    "read_frames",
    "ground_truth",
    "num_frames",
    "face_free_frames",
    "make_clip",
    "render_frames",
    "sample_scene",
    "grid_scene",
]

SAMPLE_CLIP_NAME = "sample_clip.mp4"
FRAME_SIZE = (640, 480)  # width, height
FPS = 15
DURATION_S = 12.0
FACE_FREE_FROM_S = 10.0

# Face box (x, y, w, h) in skimage.data.astronaut() (512x512), BlazeFace-style
ASTRONAUT_FACE_BOX = (170, 68, 108, 108)
_ASTRONAUT_SIZE = 512


def sample_clip_path() -> pathlib.Path:
    """Path of the built-in sample clip (inside the installed package).

    fer_ros's ``__path__`` may span the source checkout and the installed copy; the first one
    holding the clip wins.  If none does, the (missing) path in the package is returned.
    """
    import fer_ros

    for entry in getattr(fer_ros, "__path__", []):
        cand = pathlib.Path(entry) / "data" / SAMPLE_CLIP_NAME
        if cand.is_file():
            return cand
    return pathlib.Path(str(importlib.resources.files("fer_ros") / "data" / SAMPLE_CLIP_NAME))


def read_frames(path=None, max_frames: int | None = None) -> Iterator[np.ndarray]:
    """Yield the bgr8 frames of a clip (default: the sample clip) with OpenCV."""
    path = sample_clip_path() if path is None else path
    cap = cv2.VideoCapture(str(path))
    if not cap.isOpened():
        raise FileNotFoundError(f"cannot open video {path}")
    try:
        n = 0
        while max_frames is None or n < max_frames:
            ok, frame = cap.read()
            if not ok:
                break
            n += 1
            yield frame
    finally:
        cap.release()


# --------------------------------------------------------------------------------------------
# Scenes: a world image with known face boxes, seen by a camera following keyframes
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class _Placement:
    x: float        # top-left of the portrait in world pixels
    y: float
    scale: float    # portrait pixels -> world pixels
    mirrored: bool


@dataclass(frozen=True)
class FaceTruth:
    """A face in one frame: box (x, y, w, h) in frame pixels (float), visible fraction."""

    index: int          # which portrait (0-based)
    box: tuple[float, float, float, float]
    visible: float      # fraction of the box inside the frame

    def required(self, min_size: float = 24.0) -> bool:
        """A detector should find this face: fully in view and not tiny."""
        return self.visible >= 0.999 and min(self.box[2], self.box[3]) >= min_size


@dataclass(frozen=True)
class Scene:
    world_size: tuple[int, int]                   # width, height
    placements: tuple[_Placement, ...]
    keyframes: tuple[tuple[float, float, float, float], ...]  # (t, cx, cy, zoom)
    duration_s: float
    fps: int = FPS
    frame_size: tuple[int, int] = FRAME_SIZE
    seed: int = 0

    @property
    def num_frames(self) -> int:
        return int(round(self.duration_s * self.fps))

    def camera(self, t: float) -> tuple[float, float, float]:
        """(cx, cy, zoom) at time t: smoothstep between keyframes, zoom log-interpolated."""
        ks = self.keyframes
        if t <= ks[0][0]:
            return ks[0][1:]
        for (t0, x0, y0, z0), (t1, x1, y1, z1) in zip(ks, ks[1:]):
            if t <= t1:
                u = (t - t0) / (t1 - t0) if t1 > t0 else 1.0
                u = u * u * (3 - 2 * u)
                return (x0 + (x1 - x0) * u, y0 + (y1 - y0) * u,
                        math.exp(math.log(z0) + (math.log(z1) - math.log(z0)) * u))
        return ks[-1][1:]

    def world_face_boxes(self) -> list[tuple[float, float, float, float]]:
        fx, fy, fw, fh = ASTRONAUT_FACE_BOX
        out = []
        for p in self.placements:
            x = (_ASTRONAUT_SIZE - fx - fw) if p.mirrored else fx
            out.append((p.x + x * p.scale, p.y + fy * p.scale, fw * p.scale, fh * p.scale))
        return out

    def truth(self, frame_index: int) -> list[FaceTruth]:
        W, H = self.frame_size
        cx, cy, z = self.camera(frame_index / self.fps)
        out = []
        for i, (x, y, w, h) in enumerate(self.world_face_boxes()):
            bx, by = (x - cx) * z + W / 2, (y - cy) * z + H / 2
            bw, bh = w * z, h * z
            ix = max(0.0, min(W, bx + bw) - max(0.0, bx))
            iy = max(0.0, min(H, by + bh) - max(0.0, by))
            vis = min(1.0, round(ix * iy / (bw * bh), 6))
            if vis > 0:
                out.append(FaceTruth(i, (bx, by, bw, bh), vis))
        return out


def sample_scene() -> Scene:
    """The scene of the shipped clip (see the module docstring)."""
    placements = (_Placement(500, 500, 1.0, False), _Placement(1300, 650, 0.6, True))
    # face centres: A ~ (724, 622), B ~ (1473, 723)
    keyframes = (
        (0.0, 726, 630, 1.40),
        (2.0, 820, 660, 1.00),
        (4.5, 1100, 720, 0.50),
        (6.5, 1100, 760, 0.34),
        (8.5, 1472, 730, 1.05),
        (10.0, 890, 900, 1.30),
        (12.0, 950, 950, 1.30),
    )
    return Scene((2400, 1500), placements, keyframes, DURATION_S)


def grid_scene(faces: int, duration_s: float = 10.0, fps: int = FPS) -> Scene:
    """``faces`` portraits (alternately mirrored) in a grid filling a 640x480 view."""
    if faces < 1:
        raise ValueError("faces must be >= 1")
    W, H = FRAME_SIZE
    cols = math.ceil(math.sqrt(faces * W / H))
    rows = math.ceil(faces / cols)
    cell = min(W / cols, H / rows) * 0.95
    scale = cell / _ASTRONAUT_SIZE
    margin = 200
    ww = int(cols * cell + 2 * margin)
    wh = int(rows * cell + 2 * margin)
    placements = []
    for k in range(faces):
        r, c = divmod(k, cols)
        # last row centred
        n_in_row = min(cols, faces - r * cols)
        x0 = margin + (cols - n_in_row) * cell / 2
        placements.append(_Placement(x0 + c * cell, margin + r * cell, scale, bool(k % 2)))
    cx, cy = ww / 2, wh / 2
    keyframes = ((0.0, cx - 10, cy - 6, 0.95), (duration_s / 2, cx + 10, cy + 6, 1.0),
                 (duration_s, cx - 10, cy, 0.95))
    return Scene((ww, wh), tuple(placements), keyframes, duration_s, fps)


def num_frames() -> int:
    """Number of frames of the shipped clip."""
    return sample_scene().num_frames


def ground_truth(frame_index: int) -> list[FaceTruth]:
    """True faces of frame ``frame_index`` (0-based) of the shipped clip."""
    return sample_scene().truth(frame_index)


def face_free_frames() -> range:
    """Indices of the shipped clip's frames that show no face at all."""
    sc = sample_scene()
    first = int(math.ceil(FACE_FREE_FROM_S * sc.fps))
    return range(first, sc.num_frames)


# --------------------------------------------------------------------------------------------
# Rendering (needs scikit-image for the portrait)
# --------------------------------------------------------------------------------------------

def _astronaut_bgr() -> np.ndarray:
    try:
        from skimage import data
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise RuntimeError("rendering the sample clip needs scikit-image "
                           "(pip install scikit-image)") from exc
    return np.ascontiguousarray(data.astronaut()[:, :, ::-1])


def _background(width: int, height: int, seed: int) -> np.ndarray:
    """Smooth, face-free backdrop: a soft vertical gradient with large low-contrast blotches."""
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None]
    base = np.empty((height, width, 3), np.float32)
    base[:] = (150 + 40 * y)[:, :, None] * np.array([1.0, 0.93, 0.85], np.float32)  # B, G, R
    rng = np.random.default_rng(seed)
    small = rng.normal(0.0, 1.0, (height // 64 + 2, width // 64 + 2)).astype(np.float32)
    blot = cv2.resize(small, (width, height), interpolation=cv2.INTER_CUBIC)
    base += 12.0 * blot[:, :, None]
    return np.clip(base, 0, 255).astype(np.uint8)


def _build_world(scene: Scene) -> np.ndarray:
    W, H = scene.world_size
    world = _background(W, H, scene.seed)
    portrait = _astronaut_bgr()
    for p in scene.placements:
        img = portrait[:, ::-1] if p.mirrored else portrait
        size = int(round(_ASTRONAUT_SIZE * p.scale))
        interp = cv2.INTER_AREA if p.scale < 1 else cv2.INTER_CUBIC
        img = cv2.resize(np.ascontiguousarray(img), (size, size), interpolation=interp)
        x, y = int(round(p.x)), int(round(p.y))
        world[y:y + size, x:x + size] = img
    return world


def render_frames(scene: Scene) -> Iterator[np.ndarray]:
    """Yield the scene's bgr8 frames (deterministic)."""
    W, H = scene.frame_size
    levels = [_build_world(scene)]
    while min(levels[-1].shape[:2]) > 64 and len(levels) < 5:
        levels.append(cv2.pyrDown(levels[-1]))
    for i in range(scene.num_frames):
        cx, cy, z = scene.camera(i / scene.fps)
        # sample from the pyramid level that keeps the warp's scale in (0.5, 1] (no aliasing)
        k = 0
        while k + 1 < len(levels) and z * 2 ** (k + 1) <= 1.0:
            k += 1
        f = 2 ** k  # level-k pixel = f world pixels
        zk = z * f
        # level-k pixel i sits at world pixel f*i (pyrDown keeps even samples' centres)
        M = np.array([[zk, 0.0, W / 2 - cx * z], [0.0, zk, H / 2 - cy * z]], np.float64)
        yield cv2.warpAffine(levels[k], M, (W, H), flags=cv2.INTER_LINEAR,
                             borderMode=cv2.BORDER_REFLECT)


def make_clip(path, faces: int = 2, fps: int | None = None, codec: str = "mp4v",
              duration_s: float | None = None) -> pathlib.Path:
    """Render a clip to ``path``: faces=2 -> the shipped sample scene, else a grid of N.

    codec: "mp4v" (.mp4, small) or "MJPG" (.avi, larger, decodable without FFmpeg).
    Returns the path.  Raises RuntimeError when OpenCV cannot write it.
    """
    if faces == 2:
        scene = sample_scene()
        if fps is not None or duration_s is not None:
            scene = Scene(scene.world_size, scene.placements, scene.keyframes,
                          duration_s or scene.duration_s, fps or scene.fps)
    else:
        scene = grid_scene(faces, duration_s or 10.0, fps or FPS)
    path = pathlib.Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if codec.upper() == "MJPG":
        writer = cv2.VideoWriter(str(path), cv2.CAP_OPENCV_MJPEG, cv2.VideoWriter_fourcc(*"MJPG"),
                                 scene.fps, scene.frame_size)
    else:
        writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*codec), scene.fps,
                                 scene.frame_size)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write {codec} video to {path}")
    try:
        for frame in render_frames(scene):
            writer.write(frame)
    finally:
        writer.release()
    return path
