"""The annotator node alone: image_raw + emotions -> image_annotated (+ /compressed).

    ros2 launch fer_ros annotator.launch.py image:=/camera/color/image_raw
    ros2 launch fer_ros annotator.launch.py image:=/camera/image_raw image_transport:=compressed
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
            'image', default_value='image_raw',
            description='Input image topic (the one the face_detector reads)'),
        DeclareLaunchArgument(
            'image_transport', default_value='raw', choices=['raw', 'compressed'],
            description="'raw' (sensor_msgs/Image on <image>) or 'compressed' "
                        "(sensor_msgs/CompressedImage on <image>/compressed)"),
        Node(
            package='fer_ros', executable='annotator', name='annotator',
            namespace=LaunchConfiguration('namespace'), output='screen', emulate_tty=True,
            parameters=[LaunchConfiguration('params_file'),
                        {'image_transport': ParameterValue(
                            LaunchConfiguration('image_transport'), value_type=str)}],
            remappings=[('image_raw', LaunchConfiguration('image'))]),
    ])
