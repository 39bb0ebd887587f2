"""The face_detector node alone: image_raw -> faces.

    ros2 launch fer_ros face_detector.launch.py image:=/camera/color/image_raw detector:=haar
    ros2 launch fer_ros face_detector.launch.py image:=/camera/image_raw image_transport:=compressed

A managed (lifecycle) node started as a plain Node action (Humble, Jazzy, Kilted): it
configures and activates itself unless autostart:=false; then drive it with
`ros2 lifecycle set /face_detector configure` and `... activate`.
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
            'detector', default_value='blazeface', choices=['blazeface', 'haar'],
            description='Face detector'),
        DeclareLaunchArgument(
            'image', default_value='image_raw',
            description='Input image topic (e.g. a camera driver or `ros2 bag play` topic)'),
        DeclareLaunchArgument(
            'image_transport', default_value='raw', choices=['raw', 'compressed'],
            description="'raw' (sensor_msgs/Image on <image>) or 'compressed' "
                        "(sensor_msgs/CompressedImage on <image>/compressed)"),
        DeclareLaunchArgument(
            'autostart', default_value='true', choices=['true', 'false'],
            description='Managed node: configure and activate it at start-up; false leaves '
                        'it unconfigured for `ros2 lifecycle set` / a lifecycle manager'),
        Node(
            package='fer_ros', executable='face_detector', name='face_detector',
            namespace=LaunchConfiguration('namespace'), output='screen', emulate_tty=True,
            parameters=[LaunchConfiguration('params_file'),
                        {'autostart': ParameterValue(LaunchConfiguration('autostart'),
                                                     value_type=bool),
                         'detector': ParameterValue(LaunchConfiguration('detector'),
                                                    value_type=str),
                         'image_transport': ParameterValue(
                             LaunchConfiguration('image_transport'), value_type=str)}],
            remappings=[('image_raw', LaunchConfiguration('image'))]),
    ])
