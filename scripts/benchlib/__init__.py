"""The bench and soak machinery behind scripts/bench.py and scripts/soak.py.

environment  paths, the run environment (:func:`environment.prepare`), machine
inputs       clips (grids, the hard clip, files), the default model, params-file values
hard_clip    the hard clip's renderer and ground truth
video        writing a clip (atomically), a video file's frame rate
bareloop     face search + emotion CNN per frame, no ROS
fer_library  the PyPI fer library's loop on the same clip (the --versus-fer baseline)
recall       face recall and new-face latency against ground truth
graph        graph runs: processes, the measuring node (measurer), the process sampler
frame_account  the bench's frame counts next to the nodes' /diagnostics; the camera's rate
metrics      latency, per-stage and soak statistics
components   per-call timings of detectors, classifiers, conversions
profiling    py-spy profiles and their summary
suite        one bench invocation; report / printout: verdicts, tables, JSON, Markdown
soak         the soak's windows and criteria
processes    ending the node processes a script started
"""
