"""DDS settings the fer_ros executables apply before rclpy starts.

Fast DDS (the default RMW) moves samples between processes on one host through a
shared-memory segment of 512 KiB per participant, smaller than one 640x480 bgr8 frame. The
package ships ``config/fastdds_large_data.xml`` (the default transports, 8 MiB segment);
:func:`use_large_data_profile` points Fast DDS at it unless the user chose a profile file.

ROS-free: only environment variables.
"""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

#: the profile file variable of each Fast DDS: 3.x (Kilted) reads only the first, 2.x (Jazzy,
#: Humble) only the second
PROFILE_VARIABLES = ("FASTDDS_DEFAULT_PROFILES_FILE", "FASTRTPS_DEFAULT_PROFILES_FILE")
#: makes rmw_fastrtps take the endpoint settings (memory policy) from the profile
QOS_FROM_XML_VARIABLE = "RMW_FASTRTPS_USE_QOS_FROM_XML"
PROFILE_FILE = ("config", "fastdds_large_data.xml")


def use_large_data_profile(environ: MutableMapping[str, str] | None = None,
                           profile: Path | None = None) -> Path | None:
    """Point both PROFILE_VARIABLES at the package's profile if no profile is chosen (and
    set RMW_FASTRTPS_USE_QOS_FROM_XML=1, so its sample memory policy applies).

    Returns the profile now in use by this rule, or None when the user already set one of
    PROFILE_VARIABLES (left untouched) or the package's file is not found. Must run before
    ``rclpy.init()``: Fast DDS reads the variable when the first participant is created.
    """
    env = os.environ if environ is None else environ
    if any(env.get(name) for name in PROFILE_VARIABLES):
        return None
    if profile is None:
        try:
            import fer_ros

            profile = fer_ros.share_path(*PROFILE_FILE)
        except FileNotFoundError:
            return None
    if not profile.is_file():
        return None
    for name in PROFILE_VARIABLES:
        env[name] = str(profile)
    env.setdefault(QOS_FROM_XML_VARIABLE, "1")
    return profile
