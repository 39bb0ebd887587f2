# Builds another ROS 2 message package (composition_interfaces, hri_msgs, ...) against the
# PyPI ROS 2 wheels without changing its sources: configure it with
#   -DCMAKE_PROJECT_INCLUDE=<this file>
# and fer_ros_fix_wheel_python_include_dirs() (fer_ros_wheel_fixes.cmake) runs at the end of
# its top-level CMakeLists.txt, after its find_package() / rosidl_generate_interfaces() calls.
include("${CMAKE_CURRENT_LIST_DIR}/fer_ros_wheel_fixes.cmake")
cmake_language(DEFER CALL fer_ros_fix_wheel_python_include_dirs)
