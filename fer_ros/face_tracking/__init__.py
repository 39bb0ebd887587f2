"""The face_detector's search-and-track layer: which faces each frame has, and their ids.
ROS-free.

* :mod:`.search`: the per-frame work (``make_face_search(values).process(bgr, t_s)``): each
  followed face's close-up, the full search beside it, and the node's parameter table
  (``SEARCH_PARAMS``); built on :mod:`fer_ros.face_detection` and the modules below.
* :mod:`.tracker`: ``FaceTracker``, ids that follow a face from frame to frame.
* :mod:`.appearance`: the tracker's descriptor of what a face looks like.
* :mod:`.scene_change`: cut / motion / still from a cheap frame difference.
* :mod:`.search_worker`: ``OneSlotWorker``, the search's one-job worker thread.

Nothing is imported here: import the module you need.
"""
