"""benchlib.frame_account: the bench's frame counts next to the nodes' /diagnostics, the
comparison rule, the camera's rate, and how the report shows them.  ROS-free."""

from __future__ import annotations

from benchlib import report as rp
from benchlib.frame_account import Status, camera_rate, compare, node_counters


def final(published=100, processed=90, det=("7", "2", "0"), emo=("1", None, None)):
    """Last statuses as the nodes write them (absent keys left out)."""
    def chain(dropped, rejected, failed, **totals):
        values = {"dropped_frames": dropped, **{f"total_{k}": str(v) for k, v in
                                                totals.items()}}
        for key, v in (("total_rejected", rejected), ("total_failed", failed)):
            if v is not None:
                values[key] = v
        return values
    return {"camera": {"total_published": str(published), "achieved_rate_hz": "nan"},
            "face_detector": chain(*det, received=93, processed=91),
            "emotion": chain(*emo, received=90, processed=processed)}


def test_node_counters_read_totals_and_unknown_drops():
    c = node_counters({"total_received": "5", "dropped_frames": "3", "total_finished": "x"})
    assert c == {"received": 5, "dropped": 3, "dropped_measured": True}
    unknown = node_counters({"dropped_frames": "unknown"})
    assert unknown["dropped_measured"] is False and unknown["dropped"] == 0
    assert node_counters({})["dropped"] == 0       # an absent key is 0


def test_bench_and_nodes_agree_exactly_after_drain():
    out = compare(100, 90, final(), drained=True)
    assert out["agree"] is True and out["differences"] == []
    assert out["bench"] == {"published": 100, "answered": 90, "dropped": 10}
    nodes = out["nodes"]
    assert (nodes["published"], nodes["answered"], nodes["dropped"]) == (100, 90, 10)
    assert nodes["by_node"] == {"face_detector": {"dropped": 7, "rejected": 2, "failed": 0},
                                "emotion": {"dropped": 1, "rejected": 0, "failed": 0}}
    assert nodes["accounted"] == 10
    assert nodes["counters"]["face_detector"]["received"] == 93    # kept for the JSON


def test_any_difference_is_a_disagreement_that_says_where():
    # the bench missed two frames at the start: published and answered differ
    out = compare(98, 88, final(), drained=True)
    assert out["agree"] is False
    assert any(d.startswith("published: bench 98, camera's 100") for d in out["differences"])
    assert any(d.startswith("answered: bench 88") for d in out["differences"])
    # same totals, but the nodes' counters account for one frame less than was lost
    out = compare(100, 90, final(det=("6", "2", "0")), drained=True)
    assert out["agree"] is False
    assert out["differences"] == ["dropped: bench 10, nodes' counters 9"]
    # a node that cannot count its lost frames: never "agree"
    out = compare(100, 90, final(det=("unknown", "2", "0")), drained=True)
    assert out["agree"] is False and not out["nodes"]["measured"]


def test_no_verdict_without_a_drain_or_a_final_status():
    out = compare(100, 90, final(), drained=False)
    assert out["agree"] is None and "did not drain" in out["differences"][-1]
    missing = final()
    missing["emotion"] = None
    out = compare(100, 90, missing, drained=True)
    assert out["agree"] is None and out["nodes"] is None
    assert out["differences"] == ["no /diagnostics status from emotion"]


def test_camera_rate_over_the_window_and_its_warning():
    def st(t, level, achieved, msg="ok"):
        return Status(t, level, msg, {"requested_rate_hz": "60",
                                      "achieved_rate_hz": achieved})
    below = "publishing 40.0 frames/s, below the requested 60 (over 2 s)"
    statuses = [st(0, 0, "nan"), st(10, 0, "59"), st(20, 1, "40", below),
                st(30, 1, "41", below), st(40, 1, "10", below)]
    r = camera_rate(statuses, 5, 30)            # the last one is after the window
    assert r["statuses"] == 3 and r["requested_hz"] == 60.0
    assert r["achieved_hz"] == 41.0 and r["achieved_hz_min"] == 40.0
    assert r["warned"] is True and r["warnings"] == [below]
    calm = camera_rate(statuses, 0, 10)
    assert calm["warned"] is False and calm["achieved_hz"] == 59.0   # "nan" is not a rate
    assert camera_rate([], 0, 10)["achieved_hz"] is None


def test_the_report_shows_the_account_and_why_it_disagrees():
    run = {"name": "1 process | grid | 60 fps", "clip_label": "grid", "graph": "1 process",
           "rate": "60 fps",
           "camera": camera_rate([Status(1, 1, "below", {"achieved_rate_hz": "50"})], 0, 2),
           "frame_account": compare(98, 88, final(), drained=True)}
    [row] = rp.frames_rows({"runs": [run]})
    assert row[3:] == ["50.0 (50.0)", "yes", "98 / 100", "88 / 90", 10, "7/2/0", "1/0/0",
                       10, "NO"]
    [note] = rp.frames_notes({"runs": [run]})
    assert note.startswith("1 process | grid | 60 fps: published: bench 98")


def test_every_graph_waits_until_the_bench_and_the_detector_listen():
    """The account covers the whole run: the single-process runner starts its camera once
    the measuring node's subscriptions matched, the camera process once image_raw has its
    two readers (frames sent earlier would be lost where nothing counts them)."""
    from pathlib import Path

    from benchlib.graph import RunSpec, node_commands
    from benchlib.inputs import Clip
    from benchlib.measurer import measured_topics

    from fer_ros.pipeline import build_arg_parser, split_ros_args

    clip = Clip("grid1", "1-face grid", Path("clip.mp4"), 30.0)
    spec = RunSpec(mode="pipeline", clip=clip, rate=60.0, model=Path("m.tflite"),
                   params_file=None)
    cmd = node_commands(spec)["pipeline"]
    args = build_arg_parser().parse_args(split_ros_args(cmd[3:])[0])   # after "-m pipeline"
    assert dict(args.wait_for) == {t: 1 for t in measured_topics("raw")}
    assert "image_annotated" in dict(args.wait_for) and "camera_info" in dict(args.wait_for)
    spec.mode = "processes"
    assert "wait_for_subscribers:=2" in node_commands(spec)["camera"]
