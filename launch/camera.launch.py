"""The camera node alone: publishes image_raw + camera_info.

    ros2 launch fer_ros camera.launch.py source:=/dev/video0
    ros2 launch fer_ros camera.launch.py source:=/path/clip.mp4 namespace:=cam1

An argument left unset leaves its parameter to params_file (fer_ros.launch_files).
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction

from fer_ros.launch_files import common_arguments, node_action
from launch import LaunchDescription


def launch_node(context):
    return [node_action(context, 'camera')]


def generate_launch_description():
    return LaunchDescription([
        *common_arguments(),
        DeclareLaunchArgument(
            'source', default_value='',
            description="'sample', a device ('/dev/video0', 'v4l2:0'), a video or image "
                        "file, a folder of images, or a rosbag2 bag (folder, .db3, .mcap); "
                        "unset: params_file's (sample)"),
        OpaqueFunction(function=launch_node),
    ])
