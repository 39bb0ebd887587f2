"""The fer_ros ROS 2 nodes: thin adapters over the ROS-free modules.

=================  ========================================  ==================================
executable         node class                                topics
=================  ========================================  ==================================
camera             camera_node.CameraNode                    -> image_raw, camera_info
face_detector      face_detector_node.FaceDetectorNode       image_raw -> faces
emotion            emotion_node.EmotionNode                  faces -> emotions
annotator          annotator_node.AnnotatorNode              image_raw + emotions ->
                                                             image_annotated(/compressed)
=================  ========================================  ==================================

What the nodes share, one job per module: :mod:`.base` (parameters from a ``ParamSpec``
table, counters, throttled logging, the counted frame input; the plain-node base
``FerNode``), :mod:`.node_diagnostics` (the /diagnostics publisher), :mod:`.lifecycle`
(``FerLifecycleNode``, the base of the managed nodes, see docs/NODES.md) and :mod:`.runner`
(the ``main()`` of every executable: spinning, Ctrl-C, exit codes).
"""

from __future__ import annotations

from fer_ros import EXECUTABLES

#: node executable -> (module, class, default node name), in the pipeline's order (camera
#: first, annotator last); the modules come from the one list of executables,
#: fer_ros.EXECUTABLES
NODE_CLASSES = {
    exe: (EXECUTABLES[exe].split(":")[0], cls, exe)
    for exe, cls in (("camera", "CameraNode"), ("face_detector", "FaceDetectorNode"),
                     ("emotion", "EmotionNode"), ("annotator", "AnnotatorNode"))
}
