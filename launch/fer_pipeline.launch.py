"""Start the whole fer_ros pipeline: camera -> face_detector -> emotion -> annotator.

    ros2 launch fer_ros fer_pipeline.launch.py
    ros2 launch fer_ros fer_pipeline.launch.py source:=/dev/video0 detector:=haar
    ros2 launch fer_ros fer_pipeline.launch.py namespace:=cam1 params_file:=/path/my.yaml

Written for ROS 2 Humble, Jazzy and Kilted (launch_ros >= 0.19; Python >= 3.10). Launch
arguments win over the parameter file; string parameters are wrapped in
ParameterValue(..., value_type=str), because launch_ros reads a substitution's text as YAML
(source:=0 would become an integer). face_detector and emotion are managed (lifecycle) nodes
started as plain Node actions: they configure and activate themselves (their `autostart`
parameter, from the `autostart` launch argument), so nothing lifecycle-specific is needed from
launch_ros. With autostart:=false they wait unconfigured: `ros2 lifecycle set
/face_detector configure`, then `activate` (see docs/NODES.md). Each node also has its own
launch file (camera / face_detector / emotion / annotator .launch.py). Without `ros2 launch`, the
`pipeline` executable runs the same nodes in one process with the same parameter file.
"""

from launch.actions import DeclareLaunchArgument
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.parameter_descriptions import ParameterValue
from launch_ros.substitutions import FindPackageShare

from launch import LaunchDescription


def generate_launch_description():
    params_file = LaunchConfiguration('params_file')
    namespace = LaunchConfiguration('namespace')
    source = LaunchConfiguration('source')
    model = LaunchConfiguration('model')
    detector = LaunchConfiguration('detector')
    log_level = LaunchConfiguration('log_level')
    autostart = ParameterValue(LaunchConfiguration('autostart'), value_type=bool)

    arguments = [
        DeclareLaunchArgument(
            'params_file',
            default_value=PathJoinSubstitution(
                [FindPackageShare('fer_ros'), 'config', 'fer_ros.yaml']),
            description='ROS 2 parameter file for all nodes'),
        DeclareLaunchArgument(
            'namespace', default_value='',
            description='Namespace of all nodes and topics'),
        DeclareLaunchArgument(
            'source', default_value='sample',
            description="Camera source: 'sample' (built-in clip), a device ('/dev/video0' or "
                        "'v4l2:0'), a video or image file, a folder of images, or a rosbag2 bag "
                        "(folder, .db3, .mcap)"),
        DeclareLaunchArgument(
            'model', default_value='',
            description="Emotion model (.tflite/.keras, card '<model>.json' beside it); "
                        "'' = the shipped models/emotion_cnn_int8.tflite, else "
                        "models/emotion_cnn.tflite"),
        DeclareLaunchArgument(
            'detector', default_value='blazeface', choices=['blazeface', 'haar'],
            description='Face detector'),
        DeclareLaunchArgument(
            'log_level', default_value='info',
            description='Log level of all nodes (debug, info, warn, error)'),
        DeclareLaunchArgument(
            'autostart', default_value='true', choices=['true', 'false'],
            description='Configure and activate the managed nodes (face_detector, emotion) '
                        'at start-up; false leaves them unconfigured for `ros2 lifecycle set`'),
    ]

    ros_args = ['--log-level', log_level]
    nodes = [
        Node(
            package='fer_ros', executable='camera', name='camera',
            namespace=namespace, output='screen', emulate_tty=True,
            parameters=[params_file,
                        {'source': ParameterValue(source, value_type=str)}],
            ros_arguments=ros_args),
        Node(
            package='fer_ros', executable='face_detector', name='face_detector',
            namespace=namespace, output='screen', emulate_tty=True,
            parameters=[params_file,
                        {'detector': ParameterValue(detector, value_type=str),
                         'autostart': autostart}],
            ros_arguments=ros_args),
        Node(
            package='fer_ros', executable='emotion', name='emotion',
            namespace=namespace, output='screen', emulate_tty=True,
            parameters=[params_file,
                        {'model_path': ParameterValue(model, value_type=str),
                         'autostart': autostart}],
            ros_arguments=ros_args),
        Node(
            package='fer_ros', executable='annotator', name='annotator',
            namespace=namespace, output='screen', emulate_tty=True,
            parameters=[params_file],
            ros_arguments=ros_args),
    ]
    return LaunchDescription(arguments + nodes)
