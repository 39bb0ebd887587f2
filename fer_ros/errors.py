"""The one error type meaning "cannot start, here is why". ROS-free.

Source, model, detector, parameter and lifecycle-transition errors derive from it, so the
executable runner (:mod:`fer_ros.nodes.runner`) prints the message and exits with 1, without
a traceback.
"""


class StartupError(RuntimeError):
    """A node cannot start (bad source, missing model...); the message says why."""
