"""The emotion node alone: faces -> emotions.

    ros2 launch fer_ros emotion.launch.py model:=/path/emotion_cnn.tflite

A managed (lifecycle) node started as a plain Node action (Humble, Jazzy, Kilted): it
configures and activates itself unless autostart:=false; then drive it with
`ros2 lifecycle set /emotion configure` and `... activate`.
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
            'model', default_value='',
            description="Emotion model (.tflite/.keras with '<model>.json' beside it); "
                        "'' = the shipped models/emotion_cnn_int8.tflite, else "
                        "models/emotion_cnn.tflite"),
        DeclareLaunchArgument(
            'autostart', default_value='true', choices=['true', 'false'],
            description='Managed node: configure and activate it at start-up; false leaves '
                        'it unconfigured for `ros2 lifecycle set` / a lifecycle manager'),
        Node(
            package='fer_ros', executable='emotion', name='emotion',
            namespace=LaunchConfiguration('namespace'), output='screen', emulate_tty=True,
            parameters=[LaunchConfiguration('params_file'),
                        {'autostart': ParameterValue(LaunchConfiguration('autostart'),
                                                     value_type=bool),
                         'model_path': ParameterValue(LaunchConfiguration('model'),
                                                      value_type=str)}]),
    ])
