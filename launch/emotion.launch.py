"""The emotion node alone: faces -> emotions.

    ros2 launch fer_ros emotion.launch.py model:=/path/emotion_cnn.tflite

A managed (lifecycle) node started as a plain Node action (Humble, Jazzy, Kilted): it
configures and activates itself unless autostart:=false; then drive it with
`ros2 lifecycle set /emotion configure` and `... activate`. An argument left unset leaves
its parameter to params_file (fer_ros.launch_files).
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction

from fer_ros.launch_files import autostart_argument, common_arguments, node_action
from launch import LaunchDescription


def launch_node(context):
    return [node_action(context, 'emotion')]


def generate_launch_description():
    return LaunchDescription([
        *common_arguments(),
        DeclareLaunchArgument(
            'model', default_value='',
            description="Emotion model (.tflite/.keras with '<model>.json' beside it); "
                        "unset: params_file's model_path ('' = the shipped model)"),
        autostart_argument(),
        DeclareLaunchArgument(
            'hri', default_value='', choices=['', 'true', 'false'],
            description="Also publish the ROS4HRI (REP-155) topics; unset: params_file's "
                        '(false)'),
        OpaqueFunction(function=launch_node),
    ])
