"""The face_detector node alone: image_raw -> faces.

    ros2 launch fer_ros face_detector.launch.py image:=/camera/color/image_raw detector:=haar
    ros2 launch fer_ros face_detector.launch.py image:=/camera/image_raw image_transport:=compressed

A managed (lifecycle) node started as a plain Node action (Humble, Jazzy, Kilted): it
configures and activates itself unless autostart:=false; then drive it with
`ros2 lifecycle set /face_detector configure` and `... activate`. An argument left unset
leaves its parameter to params_file (fer_ros.launch_files).
"""

from launch.actions import DeclareLaunchArgument, OpaqueFunction
from launch.substitutions import LaunchConfiguration

from fer_ros.launch_files import autostart_argument, common_arguments, node_action
from launch import LaunchDescription


def launch_node(context):
    return [node_action(context, 'face_detector',
                        remappings=[('image_raw', LaunchConfiguration('image'))])]


def generate_launch_description():
    return LaunchDescription([
        *common_arguments(),
        DeclareLaunchArgument(
            'image', default_value='image_raw',
            description='Input image topic (e.g. a camera driver or `ros2 bag play` topic)'),
        DeclareLaunchArgument(
            'detector', default_value='', choices=['', 'blazeface', 'haar'],
            description="Face detector; unset: params_file's (blazeface)"),
        DeclareLaunchArgument(
            'image_transport', default_value='', choices=['', 'raw', 'compressed'],
            description="'raw' (sensor_msgs/Image on <image>) or 'compressed' "
                        "(sensor_msgs/CompressedImage on <image>/compressed); unset: "
                        "params_file's (raw)"),
        autostart_argument(),
        DeclareLaunchArgument(
            'hri', default_value='', choices=['', 'true', 'false'],
            description="Also send the plain box crops (box_crops) that the emotion node's "
                        "ROS4HRI output publishes as cropped; unset: params_file's (false)"),
        OpaqueFunction(function=launch_node),
    ])
