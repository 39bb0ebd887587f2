"""The camera node alone: publishes image_raw + camera_info.

    ros2 launch fer_ros camera.launch.py source:=/dev/video0
    ros2 launch fer_ros camera.launch.py source:=/path/clip.mp4 namespace:=cam1

An argument left unset leaves its parameter to params_file (fer_ros.launch_files).
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration
from launch_ros.actions import Node

from fer_ros.launch_files import common_arguments, node_parameters
from launch import LaunchDescription


def launch_node(context):
    return [Node(
        package='fer_ros', executable='camera', name='camera',
        namespace=LaunchConfiguration('namespace'), output='screen', emulate_tty=True,
        parameters=node_parameters(context.launch_configurations, 'camera'),
        ros_arguments=['--log-level', LaunchConfiguration('log_level')])]


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
