"""Make LiteRT run its AVX2 kernels on a CPU that also has AVX-512 (see scripts/as_avx2.sh).

Python imports this file at start-up when its folder is on PYTHONPATH, which is what
``scripts/as_avx2.sh`` does for every process it runs (bench, nodes, ``ros2 launch``).

LiteRT's kernel libraries (XNNPACK, ruy) choose their kernels from cpuinfo's table of the
CPU's features and offer no switch.  This loads LiteRT's library, fills that table, and clears
the entries an AVX2-only CPU such as AMD Zen 3 lacks (AVX-512 and its VNNI/BF16/FP16, AVX10,
AMX, AVX-VNNI, GFNI) before any interpreter exists, so every interpreter of the process runs
AVX2 kernels.  The table is private to the library: its address comes from the library's
symbol table (``nm``), and the layout is checked against /proc/cpuinfo before anything is
written, so a LiteRT release with another layout stops here with an error instead of
measuring the wrong thing.
"""

import ctypes
import subprocess
from pathlib import Path

LIBRARY = "libpywrap_litert_common.so"

# Byte offsets of cpuinfo's ``struct cpuinfo_x86_isa`` (one bool each) in the cpuinfo built
# into LiteRT 2.x, read off XNNPACK's init_hardware_config, which tests them.
AVX2 = 0x1C
CHECKED = {AVX2: "avx2", 0x1D: "avx512f", 0x29: "avx512_vnni", 0x2A: "avx512_bf16",
           0x17: "avx_vnni", 0x4C: "gfni", 0x4F: "sha_ni"}
CLEARED = [0x17, *range(0x1D, 0x39), 0x4C]   # avx_vnni; avx512* .. avx_ne_convert; gfni
TABLE_BYTES = 0x50


def _symbols(library: Path, names) -> dict[str, int]:
    out = subprocess.run(["nm", str(library)], capture_output=True, text=True, check=True)
    found = {}
    for line in out.stdout.splitlines():
        fields = line.split()
        if len(fields) == 3 and fields[2] in names:
            found[fields[2]] = int(fields[0], 16)
    missing = set(names) - set(found)
    if missing:
        raise RuntimeError(f"as_avx2: {library.name} has no symbols {sorted(missing)}")
    return found


def _load_address(library: Path) -> int:
    real = str(library.resolve())
    with open("/proc/self/maps", encoding="ascii") as maps:
        for line in maps:
            fields = line.split()
            if len(fields) >= 6 and fields[5] == real and int(fields[2], 16) == 0:
                return int(fields[0].split("-")[0], 16)
    raise RuntimeError(f"as_avx2: {library.name} is not mapped")


def _cpu_flags() -> set[str]:
    with open("/proc/cpuinfo", encoding="ascii", errors="replace") as cpuinfo:
        for line in cpuinfo:
            if line.startswith("flags"):
                return set(line.partition(":")[2].split())
    return set()


def litert_cpu_table():
    """LiteRT's cpuinfo feature table (filled), TABLE_BYTES bytes; None without LiteRT."""
    try:
        import ai_edge_litert
    except ModuleNotFoundError:
        return None     # a Python without LiteRT (e.g. a ros2 CLI helper)
    library = Path(ai_edge_litert.__file__).parent / LIBRARY
    ctypes.CDLL(str(library), mode=ctypes.RTLD_GLOBAL)   # the mapping LiteRT will reuse
    symbols = _symbols(library, ("cpuinfo_initialize", "cpuinfo_isa"))
    base = _load_address(library)
    if not ctypes.CFUNCTYPE(ctypes.c_bool)(base + symbols["cpuinfo_initialize"])():
        raise RuntimeError("as_avx2: cpuinfo_initialize failed")
    return (ctypes.c_uint8 * TABLE_BYTES).from_address(base + symbols["cpuinfo_isa"])


def limit_litert_to_avx2() -> None:
    """Clear the non-AVX2 entries of LiteRT's cpuinfo table (see the module docstring)."""
    table = litert_cpu_table()
    if table is None:
        return
    flags = _cpu_flags()
    wrong = [name for offset, name in CHECKED.items() if bool(table[offset]) != (name in flags)]
    if wrong:
        raise RuntimeError(f"as_avx2: LiteRT's cpuinfo table disagrees with /proc/cpuinfo on "
                           f"{wrong}: its layout changed; update CHECKED/CLEARED")
    if not table[AVX2]:
        raise RuntimeError("as_avx2: this CPU has no AVX2")
    for offset in CLEARED:
        table[offset] = 0


limit_litert_to_avx2()
