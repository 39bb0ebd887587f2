"""fer_ros.drawing.draw_faces: boxes and captions on a copy of the frame."""

import numpy as np
import pytest

from fer_ros.drawing import LABEL_COLORS, AnnotatedFace, caption, draw_faces, label_color


def black(h=480, w=640):
    return np.zeros((h, w, 3), np.uint8)


def test_input_not_mutated_and_output_is_new():
    img = np.full((240, 320, 3), 40, np.uint8)
    before = img.copy()
    out = draw_faces(img, [AnnotatedFace((50, 60, 80, 90), "happy", 0.87, 3)])
    np.testing.assert_array_equal(img, before)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert not np.shares_memory(out, img)
    assert not np.array_equal(out, img)


def test_box_edges_have_the_label_colour_and_inside_is_untouched():
    x, y, w, h = 200, 150, 100, 120
    out = draw_faces(black(), [AnnotatedFace((x, y, w, h), "sad", 0.5, 0)])
    col = np.array(LABEL_COLORS["sad"], np.uint8)
    mid_y, mid_x = y + h // 2, x + w // 2
    for py, px in [(mid_y, x), (mid_y, x + w - 1), (y + h - 1, mid_x), (y, mid_x + 30)]:
        np.testing.assert_array_equal(out[py, px], col, err_msg=f"edge pixel {(py, px)}")
    # interior and far outside stay black
    assert out[y + 10:y + h - 10, x + 10:x + w - 10].max() == 0
    assert out[y + h + 10:, :].max() == 0
    assert out[:, x + w + 10:].max() == 0
    assert out[:, :x - 10].max() == 0


def test_caption_is_drawn_above_the_box_readably():
    x, y, w, h = 200, 200, 100, 100
    out = draw_faces(black(), [AnnotatedFace((x, y, w, h), "happy", 0.87, 12)])
    col = np.array(LABEL_COLORS["happy"], np.uint8)
    band = out[y - 30:y - 1, x:x + 200]
    is_col = np.all(band == col, axis=2)
    assert is_col.mean() > 0.3           # a filled label background above the box
    # dark text on the yellow background (readable): some near-black pixels inside it
    rows, cols = np.nonzero(is_col)
    inside = band[rows.min():rows.max() + 1, cols.min():cols.max() + 1]
    assert (inside.sum(axis=2) < 150).sum() > 20
    # the caption is wider for a longer text
    out2 = draw_faces(black(), [AnnotatedFace((x, y, w, h), "happy", None, 0)])
    assert np.all(out2[y - 30:y - 1, x:x + 200] == col, axis=2).sum() < is_col.sum()


def test_caption_text():
    assert caption(AnnotatedFace((0, 0, 1, 1), "happy", 0.8712, 3)) == "happy 0.87 #3"
    assert caption(AnnotatedFace((0, 0, 1, 1), "neutral", 0.5, 0)) == "neutral 0.50"
    assert caption(AnnotatedFace((0, 0, 1, 1), None, None, None)) == ""
    assert caption(AnnotatedFace((0, 0, 1, 1), "fear", None, 7)) == "fear #7"


def test_colours_differ_per_label_and_are_stable():
    cols = {label_color(n) for n in LABEL_COLORS}
    assert len(cols) == len(LABEL_COLORS)
    assert label_color("Happy") == label_color("happy")
    assert label_color("contempt") == label_color("contempt")
    assert label_color(None) == label_color("")
    a = draw_faces(black(), [AnnotatedFace((100, 100, 50, 50), "angry", 0.9, 1)])
    b = draw_faces(black(), [AnnotatedFace((100, 100, 50, 50), "surprise", 0.9, 1)])
    assert not np.array_equal(a[125, 100], b[125, 100])


def test_face_at_the_top_edge_keeps_caption_inside_the_image():
    out = draw_faces(black(240, 320), [AnnotatedFace((250, 0, 60, 60), "angry", 0.99, 42)])
    col = np.array(LABEL_COLORS["angry"], np.uint8)
    # no room above: the caption is drawn inside the image, at the top
    assert np.all(out[0:15, :] == col, axis=2).sum() > 100
    assert out.shape == (240, 320, 3)


def test_boxes_partly_outside_and_degenerate_do_not_crash():
    out = draw_faces(black(100, 100), [
        AnnotatedFace((-20, -20, 50, 50), "happy", 0.5, 1),
        AnnotatedFace((80, 90, 60, 60), "sad", 0.4, 2),
        AnnotatedFace((10, 10, 0, 5), "sad", 0.4, 3),
        AnnotatedFace((10.6, 20.2, 30.0, 30.0), "fear", 0.1, 0),
    ])
    assert out.shape == (100, 100, 3) and out.max() > 0


def test_grey_input_and_duck_typed_faces():
    class Face:
        box = (10, 10, 30, 30)
        label = "neutral"
        confidence = 0.7
        face_id = 5

    out = draw_faces(np.zeros((64, 64), np.uint8), [Face()])
    assert out.shape == (64, 64, 3)
    np.testing.assert_array_equal(out[25, 10], LABEL_COLORS["neutral"])


def test_no_faces_gives_an_equal_copy():
    img = np.random.default_rng(0).integers(0, 256, (50, 60, 3), dtype=np.uint8)
    out = draw_faces(img, [])
    np.testing.assert_array_equal(out, img)
    assert not np.shares_memory(out, img)


def test_bad_images():
    with pytest.raises(ValueError):
        draw_faces(np.zeros((5, 5, 3), np.float32), [])
    with pytest.raises(ValueError):
        draw_faces(np.zeros((5, 5, 2), np.uint8), [])
