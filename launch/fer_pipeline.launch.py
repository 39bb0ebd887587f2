"""Start the whole fer_ros pipeline: camera -> face_detector -> emotion -> annotator.

    ros2 launch fer_ros fer_pipeline.launch.py
    ros2 launch fer_ros fer_pipeline.launch.py source:=/dev/video0 detector:=haar
    ros2 launch fer_ros fer_pipeline.launch.py namespace:=cam1 params_file:=/path/my.yaml

Written for ROS 2 Humble, Jazzy and Kilted (launch_ros >= 0.19; Python >= 3.10). Each node
comes from its own launch file (camera / face_detector / emotion / annotator .launch.py),
which fer_pipeline.launch.xml includes too. The arguments bound to a parameter (source,
model, detector, autostart, hri) default to '': unset, the parameter comes from
params_file; given, it wins over the file. face_detector and emotion are managed
(lifecycle) nodes started as plain Node actions: they configure and activate themselves
(their `autostart` parameter). With autostart:=false they wait unconfigured: `ros2 lifecycle
set /face_detector configure`, then `activate` (see docs/NODES.md). Without `ros2 launch`,
the `pipeline` executable runs the same nodes in one process with the same parameter file.
"""

from launch.actions import DeclareLaunchArgument, IncludeLaunchDescription
from launch.launch_description_sources import PythonLaunchDescriptionSource
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.substitutions import FindPackageShare

from fer_ros.launch_files import (
    COMMON_ARGUMENTS,
    NODE_ARGUMENTS,
    autostart_argument,
    common_arguments,
)
from launch import LaunchDescription


def include(executable, declared):
    """``executable``'s own launch file, given the common arguments and those of its
    parameter arguments (fer_ros.launch_files.NODE_ARGUMENTS) this file ``declared``."""
    passed = COMMON_ARGUMENTS + tuple(a for a in NODE_ARGUMENTS[executable] if a in declared)
    return IncludeLaunchDescription(
        PythonLaunchDescriptionSource(PathJoinSubstitution(
            [FindPackageShare('fer_ros'), 'launch', f'{executable}.launch.py'])),
        launch_arguments=[(name, LaunchConfiguration(name)) for name in passed])


def generate_launch_description():
    arguments = [
        *common_arguments(),
        DeclareLaunchArgument(
            'source', default_value='',
            description="Camera source: 'sample' (built-in clip), a device ('/dev/video0' or "
                        "'v4l2:0'), a video or image file, a folder of images, or a rosbag2 bag "
                        "(folder, .db3, .mcap); unset: params_file's (sample)"),
        DeclareLaunchArgument(
            'model', default_value='',
            description="Emotion model (.tflite/.keras, card '<model>.json' beside it); "
                        "unset: params_file's model_path ('' = the shipped model)"),
        DeclareLaunchArgument(
            'detector', default_value='', choices=['', 'blazeface', 'haar'],
            description="Face detector; unset: params_file's (blazeface)"),
        autostart_argument(),
        DeclareLaunchArgument(
            'hri', default_value='', choices=['', 'true', 'false'],
            description="The emotion node also publishes the ROS4HRI (REP-155) topics; "
                        "unset: params_file's (false)"),
    ]
    declared = {argument.name for argument in arguments}
    return LaunchDescription(arguments + [include(exe, declared) for exe in NODE_ARGUMENTS])
