"""The ROS part of the ROS4HRI output: the publishers under ``/humans/faces`` and the hri_msgs
messages, built from what the emotion node has for one frame.

:meth:`HriOutput.open` creates the ``tracked`` publisher. Per frame,
:meth:`HriOutput.publish` updates the tracked faces (:class:`fer_ros.hri.ids.FaceIds`): a face
that appears gets its four publishers (``roi``, ``cropped``, ``aligned``,
``expression``), a face that left has them destroyed, so its topics go quiet (no publisher
left); then ``/humans/faces/tracked`` lists the tracked faces and each face of the frame
publishes its messages, all with the source image's header. :meth:`HriOutput.close` retires
every face (an empty list on ``tracked``) and destroys the publishers.

hri_msgs is imported when an HriOutput is made (the node's configure); without it
:func:`require_hri_msgs` raises one StartupError saying how to install it.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, NamedTuple

import numpy as np
from sensor_msgs.msg import Image
from std_msgs.msg import Header

from fer_ros.errors import StartupError
from fer_ros.hri import FACE_SUBTOPICS, TRACKED_TOPIC, face_topic
from fer_ros.hri.expressions import circumplex_points, expressions_for, valence_arousal
from fer_ros.hri.face_output import letterbox, normalized_box
from fer_ros.hri.ids import FaceIds
from fer_ros.ros_image import bgr_to_image_msg, copy_header


class HriMsgsMissing(StartupError):
    """hri is on, but hri_msgs cannot be imported."""


def require_hri_msgs():
    """hri_msgs.msg, or HriMsgsMissing saying how to install it."""
    try:
        import hri_msgs.msg
    except ImportError as exc:
        distro = os.environ.get("ROS_DISTRO") or "<distro>"
        raise HriMsgsMissing(
            f"hri is on, but the ROS4HRI messages (hri_msgs) are not installed ({exc}): "
            f"install ros-{distro}-hri-msgs (apt), or run `make hri-msgs` in the fer_ros "
            "source tree for its .venv") from exc
    return hri_msgs.msg


class HriFace(NamedTuple):
    """What the emotion node has for one classified face of a frame."""

    emotion: Any                    # fer_ros/Emotion: face_id, box, detection_score, scores...
    aligned: np.ndarray             # the upright crop the model classifies (bgr)
    box: np.ndarray | None          # the plain box crop (bgr), None when the message had none


class HriOutput:
    """The REP-155 publishers of one node (see the module docstring).

    ``class_names`` are the model's classes (one without a REP-155 expression raises
    StartupError here, at configure); ``qos`` is used for every publisher.
    """

    def __init__(self, node, class_names: Sequence[str], qos) -> None:
        msgs = require_hri_msgs()
        self._Expression = msgs.Expression
        self._IdsList = msgs.IdsList
        self._Roi = msgs.NormalizedRegionOfInterest2D
        self._msg_types = {"roi": self._Roi, "cropped": Image, "aligned": Image,
                           "expression": self._Expression}
        try:
            expressions = expressions_for(class_names)
        except ValueError as exc:
            raise StartupError(f"hri: {exc}") from exc
        self._expression_of = dict(zip(class_names, expressions))
        self._points = circumplex_points(expressions)
        self._node = node
        self._qos = qos
        self._ids = FaceIds()
        self._tracked_pub = None
        self._face_pubs: dict[str, dict[str, Any]] = {}    # face id -> subtopic -> publisher

    def open(self) -> None:
        """Create the ``tracked`` publisher (the faces' come with the faces)."""
        if self._tracked_pub is None:
            self._tracked_pub = self._node.create_publisher(self._IdsList, TRACKED_TOPIC,
                                                            self._qos)

    def publish(self, header, image_width: int, image_height: int,
                tracked_ids: Sequence[int], faces: Sequence[HriFace]) -> None:
        """One frame: update the tracked faces, publish ``tracked`` and each face's topics
        (faces that are not confirmed tracks are left out). Needs :meth:`open`."""
        change = self._ids.update(tracked_ids)
        for face_id in change.retired:
            self._destroy_face(face_id)
        for _, face_id in change.added:
            self._face_pubs[face_id] = {
                sub: self._node.create_publisher(self._msg_types[sub], face_topic(face_id, sub),
                                                 self._qos)
                for sub in FACE_SUBTOPICS}
        self._publish_tracked(header)
        for face in faces:
            face_id = self._ids.face_id(face.emotion.face_id)
            if face_id is None:
                continue
            pubs = self._face_pubs[face_id]
            if image_width > 0 and image_height > 0:     # else the box cannot be normalised
                pubs["roi"].publish(self._roi(header, face.emotion, image_width,
                                              image_height))
            pubs["expression"].publish(self._expression(header, face.emotion))
            pubs["aligned"].publish(bgr_to_image_msg(letterbox(face.aligned), header))
            if face.box is not None:
                pubs["cropped"].publish(bgr_to_image_msg(letterbox(face.box), header))

    def close(self) -> None:
        """Retire every face (``tracked`` says so once more, stamped now) and destroy the
        publishers."""
        for face_id in self._ids.retire_all():
            self._destroy_face(face_id)
        if self._tracked_pub is not None:
            now = Header(stamp=self._node.get_clock().now().to_msg())
            self._publish_tracked(now)
            self._node.destroy_publisher(self._tracked_pub)
            self._tracked_pub = None

    # -- conversion --------------------------------------------------------------------------
    def _publish_tracked(self, header) -> None:
        msg = self._IdsList(header=copy_header(header))
        msg.ids = list(self._ids.tracked.values())
        self._tracked_pub.publish(msg)

    def _roi(self, header, emotion, width: int, height: int):
        box = emotion.box
        xmin, ymin, xmax, ymax = normalized_box(box.x_offset, box.y_offset, box.width,
                                                box.height, width, height)
        return self._Roi(header=copy_header(header), xmin=xmin, ymin=ymin, xmax=xmax,
                         ymax=ymax, c=float(emotion.detection_score))

    def _expression(self, header, emotion):
        valence, arousal = valence_arousal(emotion.scores, self._points)
        return self._Expression(header=copy_header(header),
                                expression=self._expression_of[emotion.label],
                                valence=valence, arousal=arousal,
                                confidence=min(1.0, max(0.0, float(emotion.confidence))))

    def _destroy_face(self, face_id: str) -> None:
        for pub in self._face_pubs.pop(face_id, {}).values():
            self._node.destroy_publisher(pub)
