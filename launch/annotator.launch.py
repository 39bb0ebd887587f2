"""The annotator node alone: image_raw + emotions -> image_annotated (+ /compressed).

    ros2 launch fer_ros annotator.launch.py image:=/camera/color/image_raw
    ros2 launch fer_ros annotator.launch.py image:=/camera/image_raw image_transport:=compressed

An argument left unset leaves its parameter to params_file (fer_ros.launch_files).
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from fer_ros.launch_files import common_arguments, node_action
from launch import LaunchDescription


def launch_node(context):
    return [node_action(context, 'annotator',
                        remappings=[('image_raw', LaunchConfiguration('image'))])]


def generate_launch_description():
    return LaunchDescription([
        *common_arguments(),
        DeclareLaunchArgument(
            'image', default_value='image_raw',
            description='Input image topic (the one the face_detector reads)'),
        DeclareLaunchArgument(
            'image_transport', default_value='', choices=['', 'raw', 'compressed'],
            description="'raw' (sensor_msgs/Image on <image>) or 'compressed' "
                        "(sensor_msgs/CompressedImage on <image>/compressed); unset: "
                        "params_file's (raw)"),
        OpaqueFunction(function=launch_node),
    ])
