# Build an upstream ROS 2 message package (hri_msgs, composition_interfaces) against the
# ROS 2 PyPI wheels of a venv, without changing its sources: `make hri-msgs` and
# scripts/install_jazzy_ros_tools.sh pass this file as CMAKE_PROJECT_<name>_INCLUDE or
# CMAKE_PROJECT_INCLUDE, so CMake reads it right after the package's project() call.
#
# It does for the package what CMakeLists.txt does for fer_ros: the venv prefix joins
# CMAKE_PREFIX_PATH and AMENT_PREFIX_PATH (find_package() and rosidl's type support lookup),
# and once the package's CMakeLists.txt has run (cmake_language(DEFER), CMake >= 3.19) the
# imported *__rosidl_generator_py targets of the wheels get this interpreter's Python/NumPy
# include directories (see fer_ros_wheel_fixes.cmake).
cmake_minimum_required(VERSION 3.19)
include("${CMAKE_CURRENT_LIST_DIR}/fer_ros_wheel_fixes.cmake")

if(NOT Python3_EXECUTABLE)
  message(FATAL_ERROR "message_package_in_venv.cmake: set Python3_EXECUTABLE to the venv's python")
endif()
execute_process(COMMAND "${Python3_EXECUTABLE}" -c "import sys; print(sys.prefix)"
  OUTPUT_VARIABLE _venv_prefix OUTPUT_STRIP_TRAILING_WHITESPACE)
list(APPEND CMAKE_PREFIX_PATH "${_venv_prefix}")
if("$ENV{AMENT_PREFIX_PATH}" STREQUAL "")
  set(ENV{AMENT_PREFIX_PATH} "${_venv_prefix}")
else()
  set(ENV{AMENT_PREFIX_PATH} "${_venv_prefix}:$ENV{AMENT_PREFIX_PATH}")
endif()

cmake_language(DEFER CALL fer_ros_fix_wheel_python_include_dirs)
