"""fer_ros.sample_clip: the shipped clip, its ground truth and the generator."""

import math

import cv2
import numpy as np
import pytest

from fer_ros import sample_clip as sc


@pytest.fixture(scope="module")
def frames():
    path = sc.sample_clip_path()
    assert path.is_file(), f"sample clip missing: {path} (run scripts/make_sample_clip.py)"
    return list(sc.read_frames(path))


def test_clip_is_shipped_inside_the_package_and_small():
    path = sc.sample_clip_path()
    assert path.parent.name == "data" and path.parent.parent.name == "fer_ros"
    assert path.is_file() and 100_000 < path.stat().st_size < 4_000_000
    assert (path.parent / "README.md").is_file() and (path.parent / "LICENSE").is_file()
    assert "public domain" in (path.parent / "README.md").read_text().lower()


def test_clip_format(frames):
    cap = cv2.VideoCapture(str(sc.sample_clip_path()))
    try:
        assert cap.isOpened()
        assert cap.get(cv2.CAP_PROP_FRAME_WIDTH) == 640
        assert cap.get(cv2.CAP_PROP_FRAME_HEIGHT) == 480
        assert cap.get(cv2.CAP_PROP_FPS) == pytest.approx(sc.FPS, abs=0.01)
    finally:
        cap.release()
    assert len(frames) == sc.num_frames() == 180
    assert 8 <= len(frames) / sc.FPS <= 15
    assert all(f.shape == (480, 640, 3) and f.dtype == np.uint8 for f in frames)
    # it moves: consecutive frames differ, but not wildly (slow pan/zoom)
    diffs = [np.abs(a.astype(int) - b).mean() for a, b in zip(frames[:-1], frames[1:])]
    assert min(diffs[:140]) > 0.2 and np.median(diffs) < 15


def test_read_frames_limit():
    assert len(list(sc.read_frames(max_frames=5))) == 5
    with pytest.raises(FileNotFoundError):
        list(sc.read_frames("/nonexistent/clip.mp4"))


def test_ground_truth_story():
    n = sc.num_frames()
    truth = [sc.ground_truth(i) for i in range(n)]
    sizes = [t.box[2] for ts in truth for t in ts if t.required()]
    assert max(sizes) > 140 and min(sizes) < 30          # faces at many sizes
    assert sum(len([t for t in ts if t.required()]) == 2 for ts in truth) >= 40  # two faces
    assert len(truth[0]) == 1 and truth[0][0].required()
    free = sc.face_free_frames()
    assert len(free) >= 2 * sc.FPS and free[-1] == n - 1   # >= 2 s without a face at the end
    assert all(truth[i] == [] for i in free)
    # faces partly out of view are reported with their visible fraction
    partial = [t for ts in truth for t in ts if 0 < t.visible < 1]
    assert partial and all(not t.required() for t in partial)


def test_clip_matches_its_generator(frames):
    """The committed file is what scripts/make_sample_clip.py renders (up to compression)."""
    pytest.importorskip("skimage")
    rendered = sc.render_frames(sc.sample_scene())
    for i, want in enumerate(rendered):
        if i % 20 == 0:
            err = np.abs(frames[i].astype(int) - want).mean()
            assert err < 4, (i, err)
        if i > 170:
            break


def test_ground_truth_boxes_lie_on_the_face(frames):
    """The rendered face region is the astronaut's face: skin-toned, darker eyes row."""
    for i in (0, 30, 120):
        for t in sc.ground_truth(i):
            if not t.required(40):
                continue
            x, y, w, h = (int(round(v)) for v in t.box)
            face = frames[i][y:y + h, x:x + w].astype(float)
            b, g, r = face[..., 0].mean(), face[..., 1].mean(), face[..., 2].mean()
            assert r > g > b, (i, (b, g, r))                      # skin tone


def test_grid_variant(tmp_path):
    pytest.importorskip("skimage")
    path = sc.make_clip(tmp_path / "five.mp4", faces=5, duration_s=1.0)
    got = list(sc.read_frames(path))
    assert len(got) == sc.FPS and got[0].shape == (480, 640, 3)
    scene = sc.grid_scene(5, duration_s=1.0)
    truth = scene.truth(0)
    assert len(truth) == 5 and all(t.required() for t in truth)
    # boxes do not overlap
    for a in truth:
        for b in truth:
            if a is not b:
                ax, ay, aw, ah = a.box
                bx, by, bw, bh = b.box
                assert ax + aw <= bx or bx + bw <= ax or ay + ah <= by or by + bh <= ay


@pytest.mark.parametrize("n", [1, 3, 7])
def test_grid_scene_counts(n):
    scene = sc.grid_scene(n)
    assert len(scene.truth(0)) == n
    assert scene.num_frames == 10 * sc.FPS


def test_mjpg_variant(tmp_path):
    pytest.importorskip("skimage")
    path = sc.make_clip(tmp_path / "one.avi", faces=1, duration_s=0.4, codec="MJPG")
    assert len(list(sc.read_frames(path))) == 6


def test_camera_path_is_smooth():
    scene = sc.sample_scene()
    prev = scene.camera(0)
    for i in range(1, scene.num_frames):
        cur = scene.camera(i / scene.fps)
        # frame pixels per frame
        assert math.hypot(cur[0] - prev[0], cur[1] - prev[1]) * cur[2] < 60
        assert abs(math.log(cur[2] / prev[2])) < 0.1
        prev = cur
