"""ROS4HRI (REP-155) output of the emotion node: faces and expressions under ``/humans/faces``.

The rules are ROS-free and tested alone: :mod:`.ids` (REP-155 face ids from the tracker's
ids, which faces to publish and to retire), :mod:`.expressions` (model class -> REP-155
expression constant, valence/arousal from the class scores), :mod:`.face_output` (a
face's normalised region and fixed-size images). :mod:`.ros_output` is the thin ROS part:
the publishers and the hri_msgs conversion; it is only imported when the ``hri`` parameter
is on, as hri_msgs is an optional dependency (``ros-<distro>-hri-msgs``, or ``make hri-msgs``
in a venv).

REP-155: https://www.ros.org/reps/rep-0155.html; messages: https://github.com/ros4hri/hri_msgs
"""

from __future__ import annotations

#: Where the faces live; a face's topics are FACES_NAMESPACE/<id>/<subtopic>.
FACES_NAMESPACE = "/humans/faces"
#: The ids of the tracked faces, every frame.
TRACKED_TOPIC = f"{FACES_NAMESPACE}/tracked"
#: The per-face subtopics -> message type.
FACE_SUBTOPIC_TYPES = {
    "roi": "hri_msgs/msg/NormalizedRegionOfInterest2D",
    "cropped": "sensor_msgs/msg/Image",
    "aligned": "sensor_msgs/msg/Image",
    "expression": "hri_msgs/msg/Expression",
}
#: The per-face subtopics, in TOPICS order.
FACE_SUBTOPICS = tuple(FACE_SUBTOPIC_TYPES)


def face_topic(face_id: str, subtopic: str) -> str:
    """The absolute topic of one face's ``subtopic``, e.g. /humans/faces/kqzd1/roi."""
    return f"{FACES_NAMESPACE}/{face_id}/{subtopic}"


#: The REP-155 topics the emotion node publishes with ``hri`` on (absolute names; ``<id>`` is
#: a face id, see :mod:`.ids`) -> message type.
TOPICS = {TRACKED_TOPIC: "hri_msgs/msg/IdsList"} | {
    face_topic("<id>", sub): msg_type for sub, msg_type in FACE_SUBTOPIC_TYPES.items()}
