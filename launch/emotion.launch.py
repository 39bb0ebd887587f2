"""The emotion node alone: faces -> emotions.

    ros2 launch fer_ros emotion.launch.py model:=/path/emotion_cnn.tflite
"""

from launch import LaunchDescription
from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
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
            'model', default_value='',
            description="Emotion model (.tflite/.keras with '<model>.json' beside it); "
                        "'' = the shipped models/emotion_cnn.tflite"),
        Node(
            package='fer_ros', executable='emotion', name='emotion',
            namespace=LaunchConfiguration('namespace'), output='screen', emulate_tty=True,
            parameters=[LaunchConfiguration('params_file'),
                        {'model_path': ParameterValue(LaunchConfiguration('model'),
                                                      value_type=str)}]),
    ])
