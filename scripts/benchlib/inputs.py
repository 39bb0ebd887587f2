"""What a run is given: the clip, the emotion model and the node parameters.

Clips (``resolve_clip``): ``gridN`` = N astronaut portraits in a grid
(``fer_ros.sample_clip.grid_scene``, 30 fps, 20 s; easy: still faces, plain background),
``hard`` = the hard clip (:mod:`benchlib.hard_clip`, with ground truth), ``sample`` = the
clip shipped in the package, or a video file.  Rendered clips are cached in
``bench_out/clips/``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchlib import hard_clip
from benchlib.environment import OUT_DIR, log
from benchlib.video import video_fps, write_video

CLIP_DIR = OUT_DIR / "clips"
GRID_FPS = 30
GRID_SECONDS = 20.0


@dataclass(frozen=True)
class Clip:
    """A video the camera plays (looped) and the bare loop reads."""

    key: str                    # what --clips named: "grid1", "hard", a file name
    label: str                  # for the report: "1-face grid", "hard clip"
    path: Path
    fps: float                  # the clip's own frame rate
    faces: int | None = None    # faces on every frame (grids); None: it varies / unknown
    truth: Path | None = None   # ground-truth sidecar (hard clip)


def grid_clip(faces: int, out_dir: Path = CLIP_DIR) -> Clip:
    """A 640x480 clip with ``faces`` portraits in a grid (rendered once, then cached)."""
    from fer_ros import sample_clip

    path = out_dir / f"grid_{faces}faces_{GRID_FPS}fps_{int(GRID_SECONDS)}s.mp4"
    if not (path.is_file() and path.stat().st_size > 0):
        out_dir.mkdir(parents=True, exist_ok=True)
        log(f"rendering {path} ...")
        scene = sample_clip.grid_scene(faces, GRID_SECONDS, GRID_FPS)
        write_video(path, sample_clip.render_frames(scene), GRID_FPS, sample_clip.FRAME_SIZE)
    label = f"{faces}-face grid"
    return Clip(f"grid{faces}", label, path, float(GRID_FPS), faces=faces)


def resolve_clip(spec: str) -> Clip:
    """``gridN`` | ``hard`` | ``sample`` | a video file -> Clip."""
    m = re.fullmatch(r"grid(\d+)", spec)
    if m:
        n = int(m.group(1))
        if not 1 <= n <= 20:
            raise SystemExit(f"bench: {spec}: a grid has 1 to 20 faces")
        return grid_clip(n)
    if spec == "hard":
        path, truth = hard_clip.ensure(CLIP_DIR)
        return Clip("hard", "hard clip", path, float(hard_clip.FPS), truth=truth)
    if spec == "sample":
        from fer_ros import sample_clip

        return Clip("sample", "sample clip", sample_clip.sample_clip_path(),
                    float(sample_clip.FPS))
    path = Path(spec).expanduser().resolve()
    if not path.is_file():
        raise SystemExit(f"bench: clip {spec!r} is neither gridN, hard, sample nor a file")
    return Clip(path.name, path.name, path, video_fps(path))


def add_graph_options(ap) -> None:
    """The options that choose what the graph runs and how it is measured (bench and soak)."""
    from benchlib.measurer import ANNOTATED_TOPICS
    from fer_ros.face_detection import DETECTOR_NAMES

    ap.add_argument("--model", type=Path, default=None,
                    help="emotion model of the graph (and the bare loop) (default: the one "
                         "the emotion node loads by default)")
    ap.add_argument("--params-file", type=Path, default=None,
                    help="node parameter YAML (default: the package's config/fer_ros.yaml)")
    ap.add_argument("--detector", choices=DETECTOR_NAMES, default=None,
                    help="face detector (default: the params file's)")
    ap.add_argument("--launcher", choices=["module", "console"], default="module",
                    help="start nodes with 'python -m' from this tree (default) or with "
                         "the installed console scripts")
    ap.add_argument("--annotated", choices=list(ANNOTATED_TOPICS), default="raw",
                    help="which image_annotated topic the measuring node subscribes to")


def default_model() -> Path:
    """The emotion model the emotion node loads when ``model_path`` is empty."""
    from fer_ros.model_files import resolve_model_path

    path, tried = resolve_model_path("")
    if not path.is_file():
        raise SystemExit("bench: no emotion model found (looked in: "
                         + ", ".join(map(str, tried)) + ")")
    return path


def default_params_file() -> Path | None:
    """The node parameter file the executables use by default (config/fer_ros.yaml)."""
    from fer_ros.pipeline import default_params_file as package_default

    return package_default()


def node_values(params_file: Path | str | None, node: str) -> dict[str, Any]:
    """The ``ros__parameters`` a params file gives ``node`` (keys ``node``, ``/**/node``,
    ``/**``; later keys win, as in the file)."""
    if not params_file:
        return {}
    import yaml

    data = yaml.safe_load(Path(params_file).read_text()) or {}
    values: dict[str, Any] = {}
    for key, section in data.items():
        name = str(key).rstrip("/").rsplit("/", 1)[-1]
        if name in (node, "**", "*") and isinstance(section, dict):
            values.update(section.get("ros__parameters") or {})
    return values
