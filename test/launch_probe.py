"""Stands in for a node under `ros2 launch --launch-prefix`: records the command line launch
built (executable, ROS arguments) and the text of every parameter file it names, as JSON in
the folder given first, then exits 0. Used by test/test_launch_real.py."""

import json
import os
import sys
from pathlib import Path

out, command = Path(sys.argv[1]), sys.argv[2:]
files = {path: Path(path).read_text()
         for flag, path in zip(command, command[1:]) if flag == "--params-file"}
(out / f"{os.getpid()}.json").write_text(json.dumps({"command": command, "files": files}))
