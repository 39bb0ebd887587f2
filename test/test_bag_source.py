"""Recorded rosbag2 bags as a camera source: SQLite (.db3) and MCAP storage, written here in
the layouts rosbag2 writes, with real CDR-serialised sensor_msgs messages."""

from __future__ import annotations

import sqlite3

import cv2
import numpy as np
import pytest
from conftest import Collector, spin_until
from rclpy.parameter import Parameter
from rclpy.qos import QoSProfile, ReliabilityPolicy
from rclpy.serialization import serialize_message
from sensor_msgs.msg import CompressedImage, Image
from std_msgs.msg import String

from fer_ros.ros_image import bgr_to_image_msg, image_msg_to_bgr
from fer_ros.sources import SourceError, describe_spec, open_source
from fer_ros.sources.bag import BagSource, list_topics

IMAGE_TOPIC = "/camera/image_raw"
RELIABLE = QoSProfile(depth=20, reliability=ReliabilityPolicy.RELIABLE)
FPS = 10


def frames(n=4, h=48, w=64):
    rng = np.random.default_rng(7)
    return [rng.integers(0, 255, (h, w, 3), np.uint8) for _ in range(n)]


def image_records(images, topic=IMAGE_TOPIC, encoding="bgr8"):
    records = []
    for i, bgr in enumerate(images):
        if encoding == "png":
            msg = CompressedImage(format="png", data=cv2.imencode(".png", bgr)[1].tobytes())
            kind = "sensor_msgs/msg/CompressedImage"
        else:
            msg = bgr_to_image_msg(bgr)
            if encoding == "rgb8":
                msg.encoding, msg.data = "rgb8", bgr[:, :, ::-1].tobytes()
            kind = "sensor_msgs/msg/Image"
        records.append((topic, kind, i * 10**9 // FPS, serialize_message(msg)))
    return records


def write_db3(folder, records):
    """A rosbag2 SQLite bag: folder/metadata.yaml + folder/<name>_0.db3."""
    folder.mkdir(parents=True)
    (folder / "metadata.yaml").write_text(
        "rosbag2_bagfile_information:\n  version: 9\n  storage_identifier: sqlite3\n"
        f"  relative_file_paths: [{folder.name}_0.db3]\n")
    con = sqlite3.connect(folder / f"{folder.name}_0.db3")
    con.execute("CREATE TABLE topics(id INTEGER PRIMARY KEY, name TEXT NOT NULL, type TEXT "
                "NOT NULL, serialization_format TEXT NOT NULL, offered_qos_profiles TEXT "
                "NOT NULL, type_description_hash TEXT NOT NULL)")
    con.execute("CREATE TABLE messages(id INTEGER PRIMARY KEY, topic_id INTEGER NOT NULL, "
                "timestamp INTEGER NOT NULL, data BLOB NOT NULL)")
    ids = {}
    for topic, kind, stamp, data in records:
        if topic not in ids:
            ids[topic] = len(ids) + 1
            con.execute("INSERT INTO topics VALUES (?, ?, ?, 'cdr', '', '')",
                        (ids[topic], topic, kind))
        con.execute("INSERT INTO messages(topic_id, timestamp, data) VALUES (?, ?, ?)",
                    (ids[topic], 1_700_000_000 * 10**9 + stamp, data))
    con.commit()
    con.close()
    return folder


def write_mcap(path, records):
    """A rosbag2 MCAP storage file (ros2msg schemas, cdr messages)."""
    from mcap.writer import Writer

    with open(path, "wb") as stream:
        writer = Writer(stream)
        writer.start(profile="ros2", library="fer_ros test")
        channels = {}
        for topic, kind, stamp, data in records:
            if topic not in channels:
                schema = writer.register_schema(name=kind, encoding="ros2msg", data=b"")
                channels[topic] = writer.register_channel(topic=topic, message_encoding="cdr",
                                                          schema_id=schema)
            writer.add_message(channels[topic], log_time=stamp, publish_time=stamp, data=data)
        writer.finish()
    return path


@pytest.fixture(params=["db3", "mcap"])
def write_bag(request, tmp_path):
    if request.param == "mcap":
        pytest.importorskip("mcap", reason="the mcap package reads .mcap bags")
        return lambda records: write_mcap(tmp_path / "bag.mcap", records)
    return lambda records: write_db3(tmp_path / "bag", records)


@pytest.mark.parametrize("encoding", ["bgr8", "rgb8", "png"])
def test_plays_the_recorded_frames_in_order_at_the_recorded_rate(write_bag, encoding):
    images = frames()
    bag = write_bag(image_records(images, encoding=encoding))
    with BagSource(bag) as source:
        assert source.topic == IMAGE_TOPIC and source.native_fps == pytest.approx(FPS)
        got = [source.read() for _ in range(len(images))]
        assert source.read() is None                 # the end of the recording
        source.reopen()                              # loop
        again = source.read()
    for want, frame in zip(images, got):
        np.testing.assert_array_equal(frame, want)
    np.testing.assert_array_equal(again, images[0])


def test_picks_the_named_topic_or_the_first_image_topic(write_bag):
    first, second = frames(2), frames(3, h=32, w=40)
    other = [("/chatter", "std_msgs/msg/String", 0, serialize_message(String(data="hi")))]
    bag = write_bag(other + image_records(first, "/b/image")
                    + image_records(second, "/a/image", encoding="png"))
    assert list_topics(bag) == {"/chatter": "std_msgs/msg/String",
                                "/b/image": "sensor_msgs/msg/Image",
                                "/a/image": "sensor_msgs/msg/CompressedImage"}
    assert BagSource(bag).topic == "/a/image"
    source = BagSource(bag, "/b/image")
    np.testing.assert_array_equal(source.read(), first[0])
    with pytest.raises(SourceError, match="no topic '/nope'.*image topics: /b/image, /a/image"):
        BagSource(bag, "/nope")
    with pytest.raises(SourceError, match="'/chatter' is a std_msgs/msg/String, not an image"):
        BagSource(bag, "/chatter")


def test_a_bag_without_images_is_a_clear_error(write_bag):
    bag = write_bag([("/chatter", "std_msgs/msg/String", 0, serialize_message(String()))])
    with pytest.raises(SourceError, match="no Image or CompressedImage topic.*/chatter"):
        BagSource(bag)


def test_broken_recorded_frames_are_skipped_and_listed(write_bag):
    images = frames(3)
    records = image_records(images)
    bad = Image(height=10, width=10, encoding="bgr8", step=30, data=b"\x00" * 7)
    records.insert(1, (IMAGE_TOPIC, "sensor_msgs/msg/Image", 1, serialize_message(bad)))
    source = BagSource(write_bag(records))
    got = [source.read() for _ in range(3)]
    assert source.read() is None
    assert len(source.skipped) == 1 and source.skipped[0].startswith("message 2:")
    for want, frame in zip(images, got):
        np.testing.assert_array_equal(frame, want)


def test_corrupt_or_missing_storage_files(tmp_path):
    junk = tmp_path / "junk.db3"
    junk.write_bytes(b"not a database at all" * 100)
    with pytest.raises(SourceError, match="junk.db3.*not a rosbag2 SQLite file"):
        BagSource(junk)
    empty = tmp_path / "empty"
    empty.mkdir()
    (empty / "metadata.yaml").write_text("rosbag2_bagfile_information: {}\n")
    with pytest.raises(SourceError, match="no .db3 or .mcap file"):
        BagSource(empty)
    with pytest.raises(SourceError, match="no such file or folder"):
        BagSource(tmp_path / "absent.mcap")


def test_open_source_recognises_bags(tmp_path):
    bag = write_db3(tmp_path / "rec", image_records(frames(2)))
    assert describe_spec(str(bag)) == "bag"
    assert describe_spec(f"bag:{bag}") == "bag"
    assert describe_spec(str(tmp_path / "x.mcap")) == "bag"
    source = open_source(f"bag:{bag}", width=32)
    assert isinstance(source, BagSource) and source.read().shape == (24, 32, 3)


@pytest.mark.parametrize("prefix", ["", "bag:"])
def test_camera_node_publishes_a_bag(ros_context, executor, helper_node, tmp_path, prefix):
    """The camera accepts bags with or without the documented ``bag:`` prefix."""
    from fer_ros.nodes.camera_node import CameraNode, check_params

    images = frames(3)
    bag = write_db3(tmp_path / "rec", image_records(images))
    assert check_params({"source": f"{prefix}{bag}"}) == []
    got = Collector(helper_node, Image, "image_raw", RELIABLE)
    cam = CameraNode(context=ros_context, parameter_overrides=[
        Parameter("source", value=f"{prefix}{bag}"), Parameter("bag_topic", value=IMAGE_TOPIC),
        Parameter("loop", value=False), Parameter("fps", value=50.0)])
    executor.add_node(cam)
    assert spin_until(executor, lambda: cam.finished.is_set() and len(got.messages) >= 3,
                      timeout=15)
    assert [m.header.frame_id for m in got.messages] == ["camera"] * 3
    for want, msg in zip(images, got.messages):
        np.testing.assert_array_equal(image_msg_to_bgr(msg), want)
