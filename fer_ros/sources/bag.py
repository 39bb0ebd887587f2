"""Camera frames from a recorded ROS 2 bag, without rosbag2_py (which has no PyPI wheel).

A rosbag2 bag is a folder with ``metadata.yaml`` and one or more storage files: SQLite
(``.db3``, read with the standard library) or MCAP (``.mcap``, read with the ``mcap``
package). The messages are stored CDR-serialised; rclpy's own ``deserialize_message`` turns
them back into ``sensor_msgs/msg/Image`` or ``sensor_msgs/msg/CompressedImage``.

:class:`BagSource` plays one image topic of the bag as a :class:`FrameSource`: the first
image topic unless one is named, its frame rate taken from the recorded timestamps.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from fer_ros.sources.base import BAG_SUFFIXES, FrameSource, SourceError

IMAGE_TYPES = ("sensor_msgs/msg/Image", "sensor_msgs/msg/CompressedImage")


def storage_files(path: Path) -> list[Path]:
    """The storage files of a bag folder (name order) or the file itself."""
    if path.is_file():
        return [path]
    files = sorted(p for p in path.iterdir() if p.suffix.lower() in BAG_SUFFIXES)
    if not files:
        raise SourceError(f"bag '{path}': no .db3 or .mcap file in it")
    return files


def list_topics(path: Path) -> dict[str, str]:
    """{topic: message type} over all storage files of the bag."""
    topics: dict[str, str] = {}
    for file in storage_files(path):
        topics.update(_db3_topics(file) if file.suffix.lower() == ".db3"
                      else _mcap_topics(file))
    return topics


def recorded_stamps(path: Path, topic: str) -> list[int]:
    """Receive timestamps (ns) of the messages on ``topic`` (SQLite: without reading data)."""
    stamps: list[int] = []
    for file in storage_files(path):
        if file.suffix.lower() == ".db3":
            stamps += [int(t) for (t,) in _db3_rows(file, topic, "m.timestamp")]
        else:
            stamps += [stamp for stamp, _ in _mcap_messages(file, topic)]
    return stamps


def iter_serialized(path: Path, topic: str) -> Iterator[tuple[int, bytes]]:
    """(receive timestamp ns, CDR bytes) of every message on ``topic``, in time order per
    storage file (files in name order, as rosbag2 splits them)."""
    for file in storage_files(path):
        if file.suffix.lower() == ".db3":
            yield from _db3_messages(file, topic)
        else:
            yield from _mcap_messages(file, topic)


# -- SQLite storage (rosbag2_storage_sqlite3) --------------------------------------------------
def _connect(file: Path) -> sqlite3.Connection:
    try:
        # read by whichever executor thread runs the camera timer (one at a time)
        con = sqlite3.connect(f"file:{file}?mode=ro", uri=True, check_same_thread=False)
        con.execute("SELECT name, type FROM topics LIMIT 1")
        return con
    except sqlite3.DatabaseError as exc:
        raise SourceError(f"bag file '{file}': not a rosbag2 SQLite file ({exc})") from exc


def _db3_topics(file: Path) -> dict[str, str]:
    con = _connect(file)
    try:
        return dict(con.execute("SELECT name, type FROM topics"))
    finally:
        con.close()


def _db3_rows(file: Path, topic: str, columns: str) -> Iterator[tuple]:
    """``columns`` of the messages table for ``topic``, in timestamp order."""
    con = _connect(file)
    try:
        yield from con.execute(f"SELECT {columns} FROM messages m JOIN topics t "
                               "ON m.topic_id = t.id WHERE t.name = ? ORDER BY m.timestamp",
                               (topic,))
    finally:
        con.close()


def _db3_messages(file: Path, topic: str) -> Iterator[tuple[int, bytes]]:
    for stamp, data in _db3_rows(file, topic, "m.timestamp, m.data"):
        yield int(stamp), bytes(data)


# -- MCAP storage (rosbag2_storage_mcap) -------------------------------------------------------
def _mcap_reader(stream):
    try:
        from mcap.reader import make_reader
    except ImportError as exc:
        raise SourceError("reading .mcap bags needs the 'mcap' package "
                          "(pip install mcap)") from exc
    return make_reader(stream)


def _mcap_topics(file: Path) -> dict[str, str]:
    with open(file, "rb") as stream:
        try:
            summary = _mcap_reader(stream).get_summary()
        except SourceError:
            raise
        except Exception as exc:
            raise SourceError(f"bag file '{file}': not a readable MCAP file ({exc})") from exc
    if summary is None:
        raise SourceError(f"bag file '{file}': MCAP file without a summary")
    return {ch.topic: summary.schemas[ch.schema_id].name
            for ch in summary.channels.values() if ch.schema_id in summary.schemas}


def _mcap_messages(file: Path, topic: str) -> Iterator[tuple[int, bytes]]:
    with open(file, "rb") as stream:
        reader = _mcap_reader(stream)
        for _schema, _channel, message in reader.iter_messages(topics=[topic],
                                                               log_time_order=True):
            yield int(message.log_time), bytes(message.data)


# -- the frame source --------------------------------------------------------------------------
def _decode(data: bytes, msg_class, source: FrameSource) -> np.ndarray:
    """CDR bytes of an Image / CompressedImage -> a frame for FrameSource.read(); a raw
    Image over the source's pixel budget raises before it is converted."""
    from rclpy.serialization import deserialize_message

    from fer_ros.image_encoding import compressed_to_bgr
    from fer_ros.ros_image import image_msg_to_bgr

    msg = deserialize_message(data, msg_class)
    if hasattr(msg, "format"):                      # CompressedImage
        return compressed_to_bgr(msg.format, msg.data)
    problem = source.oversized(msg.width, msg.height)
    if problem:
        raise ValueError(problem)
    return image_msg_to_bgr(msg)


class BagSource(FrameSource):
    """The images of one topic of a rosbag2 bag (folder, .db3 or .mcap), in recorded order.

    Messages that cannot be decoded are skipped and listed in ``skipped`` (a recording with a
    few broken frames still plays).
    """

    def __init__(self, path: str | os.PathLike, topic: str = "", width: int = 0,
                 height: int = 0, max_pixels: int = 0) -> None:
        self.path = Path(path).expanduser()
        super().__init__(f"bag '{self.path}'", width, height, max_pixels)
        if not self.path.exists():
            raise SourceError(f"{self.description}: no such file or folder")
        topics = list_topics(self.path)
        images = [t for t, kind in topics.items() if kind in IMAGE_TYPES]
        if topic:
            if topic not in topics:
                raise SourceError(f"{self.description}: no topic '{topic}' (image topics: "
                                  f"{', '.join(images) or 'none'})")
            if topics[topic] not in IMAGE_TYPES:
                raise SourceError(f"{self.description}: topic '{topic}' is a "
                                  f"{topics[topic]}, not an image")
        elif not images:
            raise SourceError(f"{self.description}: no Image or CompressedImage topic (topics: "
                              f"{', '.join(sorted(topics)) or 'none'})")
        self.topic = topic or sorted(images)[0]
        self.description = f"bag '{self.path}' topic '{self.topic}'"
        from sensor_msgs.msg import CompressedImage, Image

        self._msg_class = (CompressedImage if topics[self.topic] == IMAGE_TYPES[1] else Image)
        self.messages = 0
        self._fps = self._recorded_fps()
        self._index = 0
        self._messages: Iterator[tuple[int, bytes]] = iter(())
        self.reopen()

    def _recorded_fps(self) -> float | None:
        stamps = recorded_stamps(self.path, self.topic)
        self.messages = len(stamps)
        if self.messages == 0:
            raise SourceError(f"{self.description}: the topic has no messages")
        span = (stamps[-1] - stamps[0]) / 1e9
        return (len(stamps) - 1) / span if len(stamps) > 1 and span > 0 else None

    @property
    def native_fps(self) -> float | None:
        return self._fps

    def _read_raw(self) -> np.ndarray | None:
        for _stamp, data in self._messages:
            self._index += 1
            try:
                return _decode(data, self._msg_class, self)
            except Exception as exc:  # noqa: BLE001 - a broken recorded frame is skipped
                self.skipped.append(f"message {self._index}: {type(exc).__name__}: {exc}")
        return None

    def reopen(self) -> None:
        self._messages = iter_serialized(self.path, self.topic)
        self._index = 0

    def close(self) -> None:
        self._messages = iter(())      # closes the storage file
