"""The hard clip: scenes like a robot's camera sees, with per-frame ground truth.

640x480, 30 fps, 20 s, rendered deterministically (fixed seed) from scikit-image's
public-domain photos.  A scene cut every 0.8-1.2 s; each scene is a cluttered, textured
background (one photo, zoomed, cropped, mirrored or not, slowly panning, with 2-5 patches of
other photos pasted on it as distractors: the cat, the coffee cup, the rocket, coins, ...) and
1-5 faces: the astronaut portrait of the sample clip (``skimage.data.astronaut()``, face box
``sample_clip.ASTRONAUT_FACE_BOX``) cut out with a soft edge, 40-200 px face box, mirrored or
not, brighter or darker, some tilted (up to 25 degrees), growing or shrinking.  A face either
drifts slowly, enters or leaves through the left or right edge (150-500 px/s, motion
blurred), or appears in place mid-scene.  Some scenes are out of focus; all have sensor noise.

Ground truth (:func:`plan` -> :func:`truth`, no rendering needed) goes to a JSON sidecar
beside the video: for every frame the faces on it, each with an id that is unique to one
appearance (so "a new face" is a new id), its box (x, y, w, h; the BlazeFace convention of the
portrait's box) and the fraction of the box inside the frame.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from benchlib.environment import log
from benchlib.video import write_video

VERSION = 2                 # bump when the plan or the rendering changes (cache key)
SEED = 20261201
FRAME_SIZE = (640, 480)     # width, height
FPS = 30
SECONDS = 20.0
SCENE_SECONDS = (0.8, 1.2)
FACE_SIZE = (40.0, 200.0)   # face box side, px
FACES_PER_SCENE = (1, 2, 3, 4, 5)
FACES_WEIGHTS = (0.3, 0.25, 0.2, 0.15, 0.1)
MAX_SIZE_FOR_COUNT = {1: 200.0, 2: 200.0, 3: 170.0, 4: 140.0, 5: 120.0}   # so they fit
PHOTOS = ("coffee", "chelsea", "rocket", "coins", "hubble_deep_field", "immunohistochemistry",
          "brick", "grass", "gravel", "retina", "text", "page", "moon", "clock", "cell",
          "colorwheel")   # no faces in any of them (camera() and astronaut() have one)

# The portrait's head region around its face box, in portrait pixels (face box at 170,68
# 108x108): margins left/right 59, top 65, bottom 81.
_HEAD = (111, 3, 337, 257)          # x0, y0, x1, y1 in astronaut()
_FACE_IN_HEAD = (59.0, 65.0, 108.0)  # face box x, y, side inside the head patch


@dataclass(frozen=True)
class FacePlan:
    """One appearance of a face in a scene; times are seconds from the scene's start."""

    id: int
    t_on: float
    cx: float               # face box centre at t = 0 (extrapolated for late faces)
    cy: float
    vx: float               # px/s
    vy: float
    size: float             # face box side at t = 0
    growth: float           # relative size change per second
    mirrored: bool
    gain: float
    bias: float
    angle: float            # in-plane tilt, degrees (the box stays the upright one)

    def box(self, t: float) -> tuple[float, float, float, float]:
        s = self.size * (1.0 + self.growth * t)
        return (self.cx + self.vx * t - s / 2, self.cy + self.vy * t - s / 2, s, s)


@dataclass(frozen=True)
class ScenePlan:
    first_frame: int
    num_frames: int
    background: str
    zoom: float
    offset: tuple[float, float]        # of the view in the zoomed photo, in [0, 1]
    mirrored: bool
    pan: tuple[float, float]           # px/s
    # photo, where in the photo (u, v) and in the background (u, v) in [0, 1], w, h
    distractors: tuple[tuple[str, float, float, float, float, float, float], ...]
    lighting: float
    defocus: float                     # Gaussian blur sigma of the whole frame (0: sharp)
    noise: float                       # sensor noise sigma (grey levels)
    faces: tuple[FacePlan, ...]


def _head_rect(box, t_pad: float = 0.0):
    x, y, s, _ = box
    return (x - 0.55 * s - t_pad, y - 0.6 * s - t_pad, x + 1.55 * s + t_pad, y + 1.75 * s + t_pad)


def _overlap(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _face(rng, face_id: int, max_size: float, duration: float) -> FacePlan:
    W, H = FRAME_SIZE
    s = math.exp(rng.uniform(math.log(FACE_SIZE[0]), math.log(max_size)))
    kind = rng.choice(["drift", "cross", "pop"], p=[0.5, 0.3, 0.2])
    growth = rng.uniform(-0.25, 0.25) if rng.random() < 0.3 else 0.0
    t_on, vy = 0.0, rng.uniform(-20, 20)
    cy = rng.uniform(s / 2 + 5, H - s / 2 - 5)
    if kind == "cross":
        side = rng.choice([-1.0, 1.0])          # -1: the left edge, +1: the right edge
        if rng.random() < 0.5:                  # enters: fully in view at t_in
            t_in = max(rng.uniform(0.15, 0.5) * duration, (s + 2) / 500.0)
            v = (s + 2) / t_in
            cx = -s / 2 if side < 0 else W + s / 2
            vx = -side * v
        else:                                   # leaves: starts going out at t_out
            t_out = rng.uniform(0.3, 0.8) * duration
            v = rng.uniform(150, 500)
            edge = s / 2 + 2 if side < 0 else W - s / 2 - 2
            vx = side * v
            cx = edge - vx * t_out
    else:
        cx = rng.uniform(s / 2 + 5, W - s / 2 - 5)
        ang, speed = rng.uniform(0, 2 * math.pi), rng.uniform(0, 60)
        vx, vy = speed * math.cos(ang), speed * math.sin(ang)
        if kind == "pop":
            t_on = rng.uniform(0.25, 0.6) * duration
            cx, cy = cx - vx * t_on, cy - vy * t_on
    angle = rng.uniform(-25, 25) if rng.random() < 0.35 else 0.0
    return FacePlan(face_id, float(t_on), float(cx), float(cy), float(vx), float(vy), float(s),
                    float(growth), bool(rng.random() < 0.5), float(rng.uniform(0.45, 1.3)),
                    float(rng.uniform(-25, 20)), float(angle))


def _fits(face: FacePlan, others: list[FacePlan], duration: float) -> bool:
    """No two head patches overlap while both faces are on."""
    for k in range(int(duration * FPS) + 1):
        t = k / FPS
        if t < face.t_on:
            continue
        mine = _head_rect(face.box(t))
        if any(t >= o.t_on and _overlap(mine, _head_rect(o.box(t))) for o in others):
            return False
    return True


def plan(seed: int = SEED, seconds: float = SECONDS) -> list[ScenePlan]:
    """The scenes of the clip (pure: the same seed gives the same clip)."""
    rng = np.random.default_rng(seed)
    total = int(round(seconds * FPS))
    scenes, frame, next_id = [], 0, 1
    while frame < total:
        n_frames = min(total - frame, int(round(rng.uniform(*SCENE_SECONDS) * FPS)))
        duration = n_frames / FPS
        n = int(rng.choice(FACES_PER_SCENE, p=FACES_WEIGHTS))
        faces: list[FacePlan] = []
        for _ in range(n):
            for _attempt in range(40):
                f = _face(rng, next_id, MAX_SIZE_FOR_COUNT[n], duration)
                if _fits(f, faces, duration):
                    faces.append(f)
                    next_id += 1
                    break
        distractors = []
        for _ in range(int(rng.integers(2, 6))):
            w, h = rng.uniform(60, 260), rng.uniform(60, 260)
            distractors.append((str(rng.choice(PHOTOS)),
                                *(float(u) for u in rng.uniform(0, 1, 4)), float(w), float(h)))
        scenes.append(ScenePlan(
            frame, n_frames, str(rng.choice(PHOTOS)), float(rng.uniform(1.0, 1.6)),
            (float(rng.uniform(0, 1)), float(rng.uniform(0, 1))), bool(rng.random() < 0.5),
            (float(rng.uniform(-40, 40)), float(rng.uniform(-40, 40))), tuple(distractors),
            float(rng.uniform(0.75, 1.15)),
            float(rng.uniform(1.0, 2.0)) if rng.random() < 0.25 else 0.0,
            float(rng.uniform(2.0, 7.0)), tuple(faces)))
        frame += n_frames
    return scenes


def _visible(box) -> float:
    W, H = FRAME_SIZE
    x, y, w, h = box
    ix = max(0.0, min(W, x + w) - max(0.0, x))
    iy = max(0.0, min(H, y + h) - max(0.0, y))
    return min(1.0, ix * iy / (w * h))


@dataclass(frozen=True)
class TrueFace:
    """A face on one frame: its appearance id, box (x, y, w, h), fraction in view."""

    id: int
    box: tuple[float, float, float, float]
    visible: float


def truth(scenes: list[ScenePlan]) -> list[list[TrueFace]]:
    """Per frame: every face at least partly in view."""
    frames = []
    for sc in scenes:
        for k in range(sc.num_frames):
            t = k / FPS
            faces = []
            for f in sc.faces:
                if t >= f.t_on:
                    box = f.box(t)
                    vis = _visible(box)
                    if vis > 0:
                        faces.append(TrueFace(f.id, tuple(round(v, 2) for v in box),
                                              round(vis, 4)))
            frames.append(faces)
    return frames


# ------------------------------------------------------------------------------ rendering
class _Photos:
    """scikit-image's sample photos as bgr8 (loaded once)."""

    def __init__(self) -> None:
        self._cache: dict[str, np.ndarray] = {}

    def __getitem__(self, name: str) -> np.ndarray:
        if name not in self._cache:
            from skimage import data

            img = np.asarray(getattr(data, name)())
            if img.dtype == bool:
                img = img.astype(np.uint8) * 255
            if img.ndim == 2:
                img = np.repeat(img[:, :, None], 3, axis=2)
            self._cache[name] = np.ascontiguousarray(img[:, :, 2::-1].astype(np.uint8))
        return self._cache[name]


def _head_patch(photos: _Photos) -> tuple[np.ndarray, np.ndarray]:
    """The portrait's head (bgr8) and a soft elliptical alpha (float32, 0..1)."""
    x0, y0, x1, y1 = _HEAD
    head = photos["astronaut"][y0:y1, x0:x1].astype(np.float32)
    return head, _soft_alpha(*head.shape[:2])


def _soft_alpha(h: int, w: int) -> np.ndarray:
    """A soft elliptical alpha (float32, 0..1): 1 over the face, 0 at the rim."""
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    r2 = ((xx - w / 2) / (w / 2)) ** 2 + ((yy - h / 2) / (h / 2)) ** 2
    return np.clip((0.85 - r2) / 0.3, 0.0, 1.0)


def head_from_photo(photo: np.ndarray, face: tuple[float, float, float, float]
                    ) -> tuple[np.ndarray, np.ndarray]:
    """A head like :func:`_head_patch`'s from any bgr8 ``photo`` whose face box is ``face``
    (x, y, w, h): scaled and cut so that the box lands at ``_FACE_IN_HEAD`` (the photo's
    border repeated where it is too small)."""
    import cv2

    x0, y0, x1, y1 = _HEAD
    fx, fy, fs = _FACE_IN_HEAD
    k = fs / face[2]
    pad = int(max(photo.shape[:2]))
    padded = cv2.copyMakeBorder(photo, pad, pad, pad, pad, cv2.BORDER_REPLICATE)
    big = cv2.resize(padded, None, fx=k, fy=k,
                     interpolation=cv2.INTER_AREA if k < 1 else cv2.INTER_LINEAR)
    left, top = int(round((face[0] + pad) * k - fx)), int(round((face[1] + pad) * k - fy))
    head = big[top:top + y1 - y0, left:left + x1 - x0].astype(np.float32)
    return head, _soft_alpha(*head.shape[:2])


def _background(sc: ScenePlan, photos: _Photos) -> np.ndarray:
    """The scene's photo, zoomed to cover the view plus the pan, with its distractors."""
    import cv2

    W, H = FRAME_SIZE
    pad = int(math.ceil(max(abs(sc.pan[0]), abs(sc.pan[1])) * sc.num_frames / FPS)) + 2
    bw, bh = W + 2 * pad, H + 2 * pad
    img = photos[sc.background]
    k = max(bw / img.shape[1], bh / img.shape[0]) * sc.zoom
    img = cv2.resize(img, (int(math.ceil(img.shape[1] * k)), int(math.ceil(img.shape[0] * k))),
                     interpolation=cv2.INTER_LINEAR)
    ox = int(sc.offset[0] * (img.shape[1] - bw))
    oy = int(sc.offset[1] * (img.shape[0] - bh))
    bg = np.ascontiguousarray(img[oy:oy + bh, ox:ox + bw])
    if sc.mirrored:
        bg = np.ascontiguousarray(bg[:, ::-1])
    for name, su, sv, du, dv, w, h in sc.distractors:
        src = photos[name]
        w, h = int(min(w, src.shape[1])), int(min(h, src.shape[0]))
        sx, sy = int(su * (src.shape[1] - w)), int(sv * (src.shape[0] - h))
        x, y = int(du * (bw - w)), int(dv * (bh - h))
        bg[y:y + h, x:x + w] = src[sy:sy + h, sx:sx + w]
        cv2.rectangle(bg, (x, y), (x + w - 1, y + h - 1), (40, 40, 40), 2)
    return bg


def _paste(frame: np.ndarray, img: np.ndarray, alpha: np.ndarray, x: int, y: int) -> None:
    H, W = frame.shape[:2]
    h, w = img.shape[:2]
    x0, y0, x1, y1 = max(0, x), max(0, y), min(W, x + w), min(H, y + h)
    if x1 <= x0 or y1 <= y0:
        return
    a = alpha[y0 - y:y1 - y, x0 - x:x1 - x, None]
    region = frame[y0:y1, x0:x1].astype(np.float32)
    region += a * (img[y0 - y:y1 - y, x0 - x:x1 - x] - region)
    frame[y0:y1, x0:x1] = region.astype(np.uint8)


def render(scenes: list[ScenePlan], heads=None):
    """Yield the clip's bgr8 frames.  ``heads``: other people, (bgr float32 head, alpha) each
    with its face box at ``_FACE_IN_HEAD`` (see :func:`head_from_photo`); face ``k`` wears
    ``heads[k % len(heads)]`` (default: the astronaut's alone)."""
    import cv2

    W, H = FRAME_SIZE
    photos = _Photos()
    heads = heads or [_head_patch(photos)]
    fx, fy, fs = _FACE_IN_HEAD
    for sc in scenes:
        bg = _background(sc, photos)
        pad_x, pad_y = (bg.shape[1] - W) // 2, (bg.shape[0] - H) // 2
        noise_rng = np.random.default_rng([SEED, sc.first_frame])
        looks = {}
        for f in sc.faces:
            head, head_alpha = heads[f.id % len(heads)]
            img = np.clip((head[:, ::-1] if f.mirrored else head) * f.gain + f.bias, 0, 255)
            alpha = np.ascontiguousarray(head_alpha[:, ::-1] if f.mirrored else head_alpha)
            if f.angle:
                # about the face centre, so the face box stays where it was in the patch
                ox = (img.shape[1] - fx - fs) if f.mirrored else fx
                M = cv2.getRotationMatrix2D((ox + fs / 2, fy + fs / 2), f.angle, 1.0)
                size = (img.shape[1], img.shape[0])
                img = cv2.warpAffine(img, M, size, flags=cv2.INTER_LINEAR,
                                     borderMode=cv2.BORDER_REPLICATE)
                alpha = cv2.warpAffine(alpha, M, size, flags=cv2.INTER_LINEAR,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=0)
            looks[f.id] = (img, alpha)
        for k in range(sc.num_frames):
            t = k / FPS
            x = int(round(pad_x + sc.pan[0] * t))
            y = int(round(pad_y + sc.pan[1] * t))
            frame = bg[y:y + H, x:x + W].copy()
            for f in sc.faces:
                if t < f.t_on:
                    continue
                bx, by, s, _ = f.box(t)
                scale = s / fs
                img, alpha = looks[f.id]
                size = (max(1, int(round(img.shape[1] * scale))),
                        max(1, int(round(img.shape[0] * scale))))
                interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_LINEAR
                img_s = cv2.resize(img, size, interpolation=interp)
                alpha_s = cv2.resize(alpha, size, interpolation=interp)
                blur = int(round(abs(f.vx) / FPS * 0.5))     # half a frame of exposure
                if blur >= 2:
                    kernel = np.full((1, blur), 1.0 / blur, np.float32)
                    img_s = cv2.filter2D(img_s, -1, kernel)
                    alpha_s = cv2.filter2D(alpha_s, -1, kernel)
                # mirrored: the face box sits at the mirrored offset inside the patch
                off_x = (img.shape[1] - fx - fs) if f.mirrored else fx
                _paste(frame, img_s, alpha_s, int(round(bx - off_x * scale)),
                       int(round(by - fy * scale)))
            if sc.defocus:
                frame = cv2.GaussianBlur(frame, (0, 0), sc.defocus)
            grain = noise_rng.standard_normal((H, W, 1), dtype=np.float32) * sc.noise
            yield np.clip(frame * np.float32(sc.lighting) + grain, 0, 255).astype(np.uint8)


def ensure(out_dir: Path) -> tuple[Path, Path]:
    """The cached clip and its ground-truth sidecar (rendered when missing)."""
    W, H = FRAME_SIZE
    path = out_dir / f"hard_v{VERSION}_{W}x{H}_{FPS}fps_{int(SECONDS)}s.mp4"
    sidecar = path.with_name(path.name + ".json")
    if path.is_file() and path.stat().st_size > 0 and sidecar.is_file():
        return path, sidecar
    out_dir.mkdir(parents=True, exist_ok=True)
    log(f"rendering {path} ...")
    scenes = plan()
    write_video(path, render(scenes), FPS, FRAME_SIZE)
    frames = truth(scenes)
    doc = {"version": VERSION, "seed": SEED, "fps": FPS, "frame_size": list(FRAME_SIZE),
           "num_frames": len(frames),
           "scene_first_frames": [sc.first_frame for sc in scenes],
           "format": "frames[i] = [[id, x, y, w, h, visible fraction], ...]",
           "frames": [[[f.id, *f.box, f.visible] for f in faces] for faces in frames]}
    tmp = sidecar.with_name(sidecar.name + ".tmp")
    tmp.write_text(json.dumps(doc, separators=(",", ":")))
    tmp.replace(sidecar)
    return path, sidecar


def scene_cuts(sidecar: Path) -> list[int]:
    """The first frame of each scene, from a sidecar written by :func:`ensure`."""
    return [int(i) for i in json.loads(Path(sidecar).read_text())["scene_first_frames"]]


def load_truth(sidecar: Path) -> tuple[float, list[list[TrueFace]]]:
    """(fps, per-frame faces) from a sidecar written by :func:`ensure`."""
    doc = json.loads(Path(sidecar).read_text())
    frames = [[TrueFace(int(f[0]), tuple(float(v) for v in f[1:5]), float(f[5])) for f in fr]
              for fr in doc["frames"]]
    return float(doc["fps"]), frames
