"""Training, evaluation and export of the fer_ros emotion CNN."""
