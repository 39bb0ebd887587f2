"""Frame sources (ROS-free): files, folders, images, the sample clip, errors."""

import cv2
import numpy as np
import pytest

from fer_ros.preprocessing import to_bgr8
from fer_ros.sources import SourceError, describe_spec, open_source
from fer_ros.sources.base import target_size
from fer_ros.sources.capture import DeviceSource, VideoFileSource
from fer_ros.sources.files import ImageFileSource, ImageFolderSource


def numbered_frame(i, w=64, h=48):
    """A frame whose mean brightness encodes its index (survives lossy codecs)."""
    return np.full((h, w, 3), 20 + 20 * i, np.uint8)


def frame_index(frame):
    return int(round((float(frame.mean()) - 20) / 20))


@pytest.fixture
def video_file(tmp_path):
    path = tmp_path / "clip.avi"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 15.0, (64, 48))
    assert writer.isOpened()
    for i in range(5):
        writer.write(numbered_frame(i))
    writer.release()
    return path


def test_describe_spec(tmp_path):
    assert describe_spec("sample") == "sample"
    assert describe_spec("") == "sample"
    assert describe_spec("0") == "device"
    assert describe_spec("v4l2:2") == "device"
    assert describe_spec("/dev/video3") == "device"
    assert describe_spec("bag:/tmp/x") == "bag"
    assert describe_spec(str(tmp_path)) == "folder"
    assert describe_spec("face.PNG") == "image"
    assert describe_spec("movie.mp4") == "video"


def test_target_size_keeps_aspect():
    assert target_size(640, 480, 0, 0) == (640, 480)
    assert target_size(640, 480, 320, 0) == (320, 240)
    assert target_size(640, 480, 0, 120) == (160, 120)
    assert target_size(640, 480, 100, 100) == (100, 100)


def test_to_bgr8_conversions():
    assert to_bgr8(np.zeros((4, 5), np.uint8)).shape == (4, 5, 3)
    assert to_bgr8(np.zeros((4, 5, 4), np.uint8)).shape == (4, 5, 3)
    out = to_bgr8(np.full((4, 5), 65535, np.uint16))
    assert out.dtype == np.uint8 and out.max() == 255


def test_video_file_reads_all_frames_then_none_and_rewinds(video_file):
    src = open_source(str(video_file))
    assert isinstance(src, VideoFileSource)
    assert src.native_fps == pytest.approx(15.0)
    frames = []
    while (f := src.read()) is not None:
        frames.append(f)
    assert [frame_index(f) for f in frames] == [0, 1, 2, 3, 4]
    assert all(f.shape == (48, 64, 3) and f.dtype == np.uint8 for f in frames)
    src.reopen()
    assert frame_index(src.read()) == 0
    src.close()


def test_video_resize(video_file):
    with open_source(str(video_file), width=32) as src:
        assert src.read().shape == (24, 32, 3)


def test_image_file_source_once_per_pass(tmp_path):
    path = tmp_path / "img.png"
    cv2.imwrite(str(path), np.zeros((10, 20), np.uint8))   # gray -> bgr8
    src = open_source(str(path))
    assert isinstance(src, ImageFileSource)
    assert src.read().shape == (10, 20, 3)
    assert src.read() is None
    src.reopen()
    assert src.read() is not None


def test_folder_source_in_name_order_skips_undecodable(tmp_path):
    for i in (2, 0, 1):
        cv2.imwrite(str(tmp_path / f"f{i}.png"), numbered_frame(i))
    (tmp_path / "f3.png").write_bytes(b"not a png")
    (tmp_path / "notes.txt").write_text("ignored")
    src = open_source(str(tmp_path))
    assert isinstance(src, ImageFolderSource)
    got = []
    while (f := src.read()) is not None:
        got.append(frame_index(f))
    assert got == [0, 1, 2]
    assert [p.name for p in src.skipped] == ["f3.png"]


def test_empty_folder_is_an_error(tmp_path):
    with pytest.raises(SourceError, match="no image files"):
        open_source(str(tmp_path))


def test_missing_file_error_names_it(tmp_path):
    missing = tmp_path / "nope.mp4"
    with pytest.raises(SourceError, match="nope.mp4"):
        open_source(str(missing))


def test_corrupt_video_is_an_error_or_yields_nothing(tmp_path):
    bad = tmp_path / "bad.mp4"
    bad.write_bytes(b"\x00garbage" * 100)
    try:
        src = open_source(str(bad))
    except SourceError as exc:
        assert "bad.mp4" in str(exc)
    else:
        assert src.read() is None


def test_corrupt_image_is_an_error(tmp_path):
    bad = tmp_path / "bad.jpg"
    bad.write_bytes(b"garbage")
    with pytest.raises(SourceError, match="bad.jpg"):
        open_source(str(bad))


def test_missing_device_path_is_an_error():
    with pytest.raises(SourceError, match="/dev/video99"):
        DeviceSource("/dev/video99")


def test_sample_clip_source():
    pytest.importorskip("fer_ros.sample_clip")
    from fer_ros.sample_clip import sample_clip_path

    if not sample_clip_path().is_file():
        pytest.skip("sample clip not shipped yet")
    with open_source("sample") as src:
        frame = src.read()
        assert frame is not None and frame.ndim == 3 and frame.shape[2] == 3
        assert src.native_fps is None or src.native_fps > 0


def damaged_video(path):
    """An MPEG-4 clip with zeroed stretches: FFmpeg logs decoding errors reading it."""
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"mp4v"), 15.0, (160, 120))
    assert writer.isOpened()
    for _ in range(30):
        writer.write(rng.integers(0, 255, (120, 160, 3), np.uint8))
    writer.release()
    data = bytearray(path.read_bytes())
    for offset in range(3000, len(data) - 1000, 4000):
        data[offset:offset + 200] = bytes(200)
    path.write_bytes(bytes(data))
    return path


def test_a_looping_damaged_video_logs_ffmpeg_errors_only_on_its_first_pass(tmp_path, capfd,
                                                                            monkeypatch):
    from fer_ros.sources.capture import _opencv_libavutil

    monkeypatch.delenv("OPENCV_FFMPEG_LOGLEVEL", raising=False)
    libavutil = _opencv_libavutil()
    if libavutil is None:
        pytest.skip("no libavutil loaded by OpenCV (not its FFmpeg backend)")
    libavutil.av_log_set_level(16)            # AV_LOG_ERROR, OpenCV's default
    src = VideoFileSource(damaged_video(tmp_path / "damaged.mp4"))
    capfd.readouterr()
    for _ in range(3):                        # the first pass, then two loops
        while src.read() is not None:
            pass
        src.reopen()
    first_pass = capfd.readouterr().err
    for _ in range(3):
        while src.read() is not None:
            pass
        src.reopen()
    assert capfd.readouterr().err == ""
    src.close()
    assert "mpeg4" in first_pass, first_pass  # FFmpeg's own lines, on the first pass


def test_frames_over_the_pixel_budget_are_skipped(tmp_path):
    cv2.imwrite(str(tmp_path / "a.png"), np.zeros((20, 20, 3), np.uint8))
    cv2.imwrite(str(tmp_path / "b.png"), np.zeros((40, 40, 3), np.uint8))
    src = open_source(str(tmp_path), max_pixels=400)
    assert src.read().shape == (20, 20, 3) and src.read() is None
    assert "40x40 = 1600 pixels" in src.skipped[0]
    with pytest.raises(SourceError, match="max_image_pixels"):
        open_source(str(tmp_path / "b.png"), max_pixels=400)


def test_a_folder_of_undecodable_files_fails_to_open(tmp_path):
    (tmp_path / "a.png").write_bytes(b"junk")
    with pytest.raises(SourceError, match="none of its 1 image files can be decoded"):
        open_source(str(tmp_path))
