"""What fer_ros' launch files (launch/*.launch.py, *.launch.xml) share: the arguments every
one of them declares, the launch arguments that set node parameters, the rule that only the
ones the user gave are passed, and the Node action each per-node Python file starts.

A launch argument bound to a parameter defaults to ``''`` (:data:`NOT_GIVEN`): the node then
takes that parameter from the params file (or its own default). A value the user gives is
passed after ``params_file``, so it wins over the file. Imports launch / launch_ros only when
a launch file runs.
"""

from __future__ import annotations

from collections.abc import Mapping

#: the default of every launch argument bound to a parameter: leave it to the params file
NOT_GIVEN = ""

#: the launch arguments every launch file declares (:func:`common_arguments`)
COMMON_ARGUMENTS = ("params_file", "namespace", "log_level")

#: executable -> {launch argument: (node parameter, its type)}; ``hri`` also sets the
#: face_detector's ``box_crops``, which the ROS4HRI ``cropped`` topic needs. The ``pipeline``
#: executable's options of the same names (--source, --model, --detector, --hri) follow it.
NODE_ARGUMENTS: Mapping[str, Mapping[str, tuple[str, type]]] = {
    "camera": {"source": ("source", str)},
    "face_detector": {"detector": ("detector", str), "autostart": ("autostart", bool),
                      "image_transport": ("image_transport", str),
                      "hri": ("box_crops", bool)},
    "emotion": {"model": ("model_path", str), "autostart": ("autostart", bool),
                "hri": ("hri", bool)},
    "annotator": {"image_transport": ("image_transport", str)},
}


def node_parameters(launch_configurations: Mapping[str, str], executable: str) -> list:
    """The ``parameters`` of ``executable``'s Node: the params file, then a dict of the
    arguments the user gave (none: no dict).

    ParameterValue(..., value_type=T) keeps ``source:=0`` a string (launch_ros reads bare
    text as YAML) and turns 'true' / 'false' into a bool.
    """
    from launch.substitutions import LaunchConfiguration
    from launch_ros.parameter_descriptions import ParameterValue

    given = {parameter: ParameterValue(LaunchConfiguration(argument), value_type=value_type)
             for argument, (parameter, value_type) in NODE_ARGUMENTS[executable].items()
             if launch_configurations.get(argument, NOT_GIVEN) != NOT_GIVEN}
    return [LaunchConfiguration("params_file")] + ([given] if given else [])


def common_arguments() -> list:
    """The DeclareLaunchArguments of every Python launch file: ``params_file`` (default: the
    package's config/fer_ros.yaml), ``namespace`` and ``log_level``."""
    from launch.actions import DeclareLaunchArgument
    from launch.substitutions import PathJoinSubstitution
    from launch_ros.substitutions import FindPackageShare

    return [
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution(
                [FindPackageShare("fer_ros"), "config", "fer_ros.yaml"]),
            description="ROS 2 parameter file of the nodes"),
        DeclareLaunchArgument("namespace", default_value="",
                              description="Namespace of the nodes and their topics"),
        DeclareLaunchArgument("log_level", default_value="info",
                              description="Log level of the nodes (debug, info, warn, error)"),
    ]


def autostart_argument():
    """The ``autostart`` argument of the launch files that start managed nodes."""
    from launch.actions import DeclareLaunchArgument

    return DeclareLaunchArgument(
        "autostart", default_value=NOT_GIVEN, choices=[NOT_GIVEN, "true", "false"],
        description="Configure and activate the managed nodes this launch starts "
                    "(face_detector, emotion) at start-up; false leaves them unconfigured for "
                    "`ros2 lifecycle set` / a lifecycle manager; unset: params_file's (true)")


def node_action(context, executable: str, remappings=()):
    """The Node of a per-node launch file: fer_ros' ``executable`` named after it, in the
    ``namespace`` argument, with :func:`node_parameters` and the ``log_level`` argument."""
    from launch.substitutions import LaunchConfiguration
    from launch_ros.actions import Node

    return Node(
        package="fer_ros", executable=executable, name=executable,
        namespace=LaunchConfiguration("namespace"), output="screen", emulate_tty=True,
        parameters=node_parameters(context.launch_configurations, executable),
        remappings=list(remappings),
        ros_arguments=["--log-level", LaunchConfiguration("log_level")])
