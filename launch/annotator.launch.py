"""The annotator node alone: image_raw + emotions -> image_annotated (+ /compressed).

    ros2 launch fer_ros annotator.launch.py image:=/camera/color/image_raw
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


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
        Node(
            package='fer_ros', executable='annotator', name='annotator',
            namespace=LaunchConfiguration('namespace'), output='screen', emulate_tty=True,
            parameters=[LaunchConfiguration('params_file')],
            remappings=[('image_raw', LaunchConfiguration('image'))]),
    ])
