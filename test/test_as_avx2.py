"""scripts/as_avx2.sh: a process it runs uses the AVX2 code paths of LiteRT, OpenCV and NumPy
and still computes the same emotion scores."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parent.parent
WRAPPER = REPO / "scripts" / "as_avx2.sh"
INT8_MODEL = REPO / "models" / "emotion_cnn_int8.tflite"

# Prints the scores of a fixed face, and what each library sees of the CPU.
PROBE = """
import json, sys
import numpy as np, cv2
from numpy._core._multiarray_umath import __cpu_features__
from fer_ros.emotion_classifier import EmotionClassifier
face = (np.add.outer(np.arange(48), np.arange(48)) % 256).astype(np.float32)[None, :, :, None]
scores = EmotionClassifier(sys.argv[1]).predict(face)[0]
site = sys.modules.get("sitecustomize")
table = list(site.litert_cpu_table()) if hasattr(site, "litert_cpu_table") else None
print(json.dumps({"scores": [float(s) for s in scores], "table": table,
                  "numpy_avx512": bool(__cpu_features__.get("X86_V4")),
                  "opencv_avx512": bool(cv2.checkHardwareSupport(13))}))
"""


def cpu_flags() -> set[str]:
    for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
        if line.startswith("flags"):
            return set(line.partition(":")[2].split())
    return set()


def probe(*wrapper: str) -> dict:
    out = subprocess.run([*wrapper, sys.executable, "-c", PROBE, str(INT8_MODEL)],
                         capture_output=True, text=True, timeout=120, cwd=REPO)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.skipif("avx2" not in cpu_flags(), reason="as_avx2.sh needs an x86 CPU with AVX2")
def test_as_avx2_limits_the_libraries_and_keeps_the_scores():
    native = probe()
    limited = probe(str(WRAPPER))
    assert native["table"] is None      # without the wrapper nothing is limited
    # LiteRT's cpuinfo table: AVX2 kept, every AVX-512 / VNNI / AMX entry cleared
    assert limited["table"][0x1C] == 1
    assert not any(limited["table"][offset] for offset in (0x17, *range(0x1D, 0x39), 0x4C))
    assert not limited["numpy_avx512"] and not limited["opencv_avx512"]
    # other kernels, same network: int8 rounding may differ, the answer may not
    assert np.argmax(limited["scores"]) == np.argmax(native["scores"])
    assert np.max(np.abs(np.subtract(limited["scores"], native["scores"]))) < 0.02
