"""The camera node alone: publishes image_raw + camera_info.

    ros2 launch fer_ros camera.launch.py source:=/dev/video0
    ros2 launch fer_ros camera.launch.py source:=/path/clip.mp4 namespace:=cam1
"""

from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription


def generate_launch_description():
    return LaunchDescription([
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution(
                [FindPackageShare('fer_ros'), 'config', 'fer_ros.yaml']),
            description='ROS 2 parameter file'),
        DeclareLaunchArgument('namespace', default_value='', description='Node namespace'),
        DeclareLaunchArgument(
            'source', default_value='sample',
            description="'sample', a device ('/dev/video0', 'v4l2:0'), a video or image "
                        "file, a folder of images, or a rosbag2 bag (folder, .db3, .mcap)"),
        Node(
            package='fer_ros', executable='camera', name='camera',
            namespace=LaunchConfiguration('namespace'), output='screen', emulate_tty=True,
            parameters=[LaunchConfiguration('params_file'),
                        {'source': ParameterValue(LaunchConfiguration('source'),
                                                  value_type=str)}]),
    ])
