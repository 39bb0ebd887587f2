# Work-arounds for building against the ROS 2 PyPI wheels (ros-* packages) instead of an
# apt/source install of ROS. Everything here is a no-op on a normal ROS installation.
#
# The wheels are built in manylinux containers, so the exported CMake targets
# <pkg>::<pkg>__rosidl_generator_py carry INTERFACE_INCLUDE_DIRECTORIES such as
#   /opt/python/cp311-cp311/include/python3.11
#   /opt/python/cp311-cp311/lib/python3.11/site-packages/numpy/_core/include
# which do not exist on the user's machine; CMake refuses to generate a build system for a
# target linking them ("Imported target ... includes non-existent path"). We re-point those
# imported targets at the Python and NumPy include directories of the interpreter we build
# for. Nothing outside this project is modified (no symlinks, no edits of installed files).

# fer_ros_fix_wheel_python_include_dirs()
# Call after every find_package() / rosidl_generate_interfaces() that may import
# *__rosidl_generator_py targets (imported targets are directory scoped).
function(fer_ros_fix_wheel_python_include_dirs)
  get_property(_targets DIRECTORY PROPERTY IMPORTED_TARGETS)
  set(_fixed "")
  foreach(_target IN LISTS _targets)
    if(NOT _target MATCHES "__rosidl_generator_py$")
      continue()
    endif()
    get_target_property(_dirs ${_target} INTERFACE_INCLUDE_DIRECTORIES)
    if(NOT _dirs)
      continue()
    endif()
    set(_kept "")
    set(_missing FALSE)
    foreach(_dir IN LISTS _dirs)
      # generator expressions are kept untouched; plain paths must exist
      if(_dir MATCHES "^\\$<" OR EXISTS "${_dir}")
        list(APPEND _kept "${_dir}")
      else()
        set(_missing TRUE)
      endif()
    endforeach()
    if(_missing)
      if(NOT Python3_INCLUDE_DIRS OR NOT Python3_NumPy_INCLUDE_DIRS)
        find_package(Python3 REQUIRED COMPONENTS Interpreter Development NumPy)
      endif()
      list(APPEND _kept ${Python3_INCLUDE_DIRS} ${Python3_NumPy_INCLUDE_DIRS})
      list(REMOVE_DUPLICATES _kept)
      set_target_properties(${_target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_kept}")
      list(APPEND _fixed ${_target})
    endif()
  endforeach()
  if(_fixed)
    list(LENGTH _fixed _n)
    message(STATUS "fer_ros: re-pointed Python/NumPy include dirs of ${_n} imported "
      "*__rosidl_generator_py targets from the PyPI ROS wheels")
  endif()
endfunction()

# fer_ros_fix_local_python_include_dirs(<target>)
# rosidl_generator_py adds the Python and NumPy include directories as PUBLIC include
# directories of <pkg>__rosidl_generator_py, which is exported. When the Python environment
# lives inside the source tree (`make setup` creates .venv/ in the repository root), CMake
# rejects exporting such paths ("prefixed in the source directory"). They are only needed
# to compile this package, so limit them to the build interface.
function(fer_ros_fix_local_python_include_dirs target)
  if(NOT TARGET ${target})
    return()
  endif()
  get_target_property(_dirs ${target} INTERFACE_INCLUDE_DIRECTORIES)
  if(NOT _dirs)
    return()
  endif()
  set(_new "")
  set(_changed FALSE)
  foreach(_dir IN LISTS _dirs)
    if(NOT _dir MATCHES "^\\$<" AND IS_ABSOLUTE "${_dir}")
      file(RELATIVE_PATH _rel "${CMAKE_SOURCE_DIR}" "${_dir}")
      if(NOT _rel MATCHES "^\\.\\.")
        list(APPEND _new "$<BUILD_INTERFACE:${_dir}>")
        set(_changed TRUE)
        continue()
      endif()
    endif()
    list(APPEND _new "${_dir}")
  endforeach()
  if(_changed)
    set_target_properties(${target} PROPERTIES INTERFACE_INCLUDE_DIRECTORIES "${_new}")
  endif()
endfunction()
