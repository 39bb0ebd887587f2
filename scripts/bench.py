#!/usr/bin/env python3
"""Benchmark the real fer_ros graph end to end, next to the bare loop on the same content.

    make bench                                    # = .venv/bin/python scripts/bench.py
    python scripts/bench.py --seconds 3           # a quick look
    python scripts/bench.py --clips hard --graphs pipeline@60 pipeline@max
    python scripts/bench.py --clips my_video.mp4 --graphs processes@30
    python scripts/bench.py --components          # + detector/classifier/conversion timings
    python scripts/bench.py --profile             # + py-spy profile of every graph
    python scripts/bench.py --clips hard --no-graph --versus-fer   # + the PyPI fer library

Per clip (default: the 1-face grid, the 5-face grid and the hard clip, rendered once into
bench_out/clips/): the bare loop (face search + emotion CNN, no ROS) at the stamps of each
camera rate, then every graph (default: 4 processes at 30 fps, 1 process at 60 fps) started
as deployed and measured from outside: results/s, % of published frames answered, latency
capture -> EmotionArray, and both as a ratio to the bare loop.  On the hard clip also face
recall and new-face latency, default search schedule vs searching every frame, from its
ground truth.  After each graph run the camera stops and the graph drains; the bench then
prints the whole run's frames (published, the camera's achieved rate and rate warning,
answered, dropped) as it counted them from stamps next to the nodes' own counts on
/diagnostics, and whether the two agree.  Then the verdicts against the targets for what was
measured.

Written: the printed report also as bench_out/bench.json and bench_out/bench.md (the README
table).  Exit code 0; 1 with --check-targets when a verdict is a miss; 2 when a run failed.
See docs/BENCH.md for what each figure means.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from benchlib import environment, inputs


def build_arg_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--clips", nargs="+", default=["grid1", "grid5", "hard"],
                    help="gridN (N portraits in a grid), hard (the hard clip, with ground "
                         "truth), sample (the shipped clip) or video files "
                         "(default: grid1 grid5 hard)")
    ap.add_argument("--graphs", nargs="+", default=["processes@30", "pipeline@60"],
                    help="MODE@RATE: processes (four node processes) or pipeline (one "
                         "process) with the camera at RATE frames/s or 'max' "
                         "(default: processes@30 pipeline@60)")
    ap.add_argument("--seconds", type=float, default=20.0,
                    help="measured seconds per graph run; also the most processing time of "
                         "a grid or file bare loop (default 20)")
    ap.add_argument("--warmup", type=float, default=3.0,
                    help="seconds after the first result that are not measured (default 3)")
    inputs.add_graph_options(ap)
    ap.add_argument("--no-graph", action="store_true",
                    help="bare loops (and recall) only")
    ap.add_argument("--components", action="store_true",
                    help="also time the components one call at a time")
    ap.add_argument("--component-seconds", type=float, default=2.0,
                    help="seconds per component measurement (default 2)")
    ap.add_argument("--model-dir", type=Path, default=None,
                    help="components: folder with emotion_cnn.keras/.tflite/_int8.tflite and "
                         "their cards (default models/)")
    ap.add_argument("--profile", action="store_true",
                    help="also profile every graph on the last clip with py-spy")
    ap.add_argument("--profile-gil", action="store_true",
                    help="profile only threads holding the GIL (Python CPU time)")
    ap.add_argument("--versus-fer", action="store_true",
                    help="also run the PyPI fer library's loop (Haar + its CNN) on each clip, "
                         "the baseline of issue 19's >= 3x (requirements-baseline.txt)")
    ap.add_argument("--json", type=Path, default=environment.OUT_DIR / "bench.json",
                    help="write the report as JSON here (default bench_out/bench.json)")
    ap.add_argument("--markdown", type=Path, default=environment.OUT_DIR / "bench.md",
                    help="write the README tables here (default bench_out/bench.md)")
    ap.add_argument("--check-targets", action="store_true",
                    help="exit 1 when a verdict is a miss")
    ap.add_argument("--log-dir", type=Path, default=environment.OUT_DIR / "logs",
                    help="node logs (default bench_out/logs)")
    return ap


def main(argv: list[str] | None = None) -> int:
    environment.prepare()       # first: the options import fer_ros, from this tree
    args = build_arg_parser().parse_args(argv)
    from benchlib import report as rp
    from benchlib.printout import print_report
    from benchlib.suite import Options, parse_graph, run_bench

    try:
        graphs = [parse_graph(g) for g in args.graphs]
    except ValueError as exc:
        raise SystemExit(f"bench: --graphs {exc}") from None
    opts = Options(clips=args.clips, graphs=graphs, seconds=args.seconds, warmup=args.warmup,
                   model=args.model, params_file=args.params_file, detector=args.detector,
                   launcher=args.launcher, annotated=args.annotated, graph=not args.no_graph,
                   components=args.components, component_seconds=args.component_seconds,
                   model_dir=args.model_dir, profile=args.profile,
                   profile_gil=args.profile_gil, versus_fer=args.versus_fer,
                   log_dir=args.log_dir,
                   argv=sys.argv[1:] if argv is None else list(argv))
    report, failures = run_bench(opts)
    print_report(report)
    rp.write_json(args.json, report)
    rp.write_markdown(args.markdown, report)
    print(f"\nwrote {args.json} and {args.markdown}")
    if failures:
        return 2
    if args.check_targets and not all(v["ok"] for v in report["verdicts"]):
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
