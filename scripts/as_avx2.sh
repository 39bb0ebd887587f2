#!/usr/bin/env bash
# Run a command with the AVX2 code paths of LiteRT, OpenCV, NumPy and oneDNN on a CPU that
# also has AVX-512: an estimate of an AVX2-only CPU such as AMD Zen 3 on the same cores,
# clock and caches, not a measurement of one.
#
#   scripts/as_avx2.sh make bench BENCH_ARGS="--clips hard --graphs processes@30"
#
# Every Python process it starts (nodes and `ros2 launch` included) imports
# scripts/avx2_code_paths/sitecustomize.py, which limits LiteRT; the other libraries read
# the variables below.  The bench report names the limit beside the CPU (FER_ROS_CODE_PATHS).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
export PYTHONPATH="$here/avx2_code_paths${PYTHONPATH:+:$PYTHONPATH}"
export OPENCV_CPU_DISABLE="AVX512F,AVX512-SKX,AVX512-COMMON,AVX512-CLX,AVX512-CNL,AVX512-ICL"
export NPY_DISABLE_CPU_FEATURES="X86_V4 AVX512_ICL AVX512_SPR"
export ONEDNN_MAX_CPU_ISA="AVX2"
export FER_ROS_CODE_PATHS="AVX2 only (scripts/as_avx2.sh)"
exec "$@"
