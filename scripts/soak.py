#!/usr/bin/env python3
"""Soak test: run the fer_ros graph for a long time at a fixed rate; check memory and latency.

    python scripts/soak.py --seconds 600 --fps 30            # the release check (10 min)
    python scripts/soak.py --seconds 60                      # the CI version (test/test_soak.py)
    python scripts/soak.py --mode pipeline --clip grid5 --json bench_out/soak.json

The graph runs as in scripts/bench.py (``processes``: four node processes, default;
``pipeline``: the single-process runner), the camera publishing ``--clip`` at ``--fps``,
looped.  The default clip is the rendered 1-face grid (as in bench.py, 20 s, so it also
exercises the rewind path): its content hardly changes, so the latency is stationary and a
drift means the graph slowed down.  (The sample clip, ``--clip sample``, and the hard clip
change content every few seconds: their latency follows the content, and windows that are
not a multiple of the cycle see that as noise.)
A measuring node records every EmotionArray (latency = DDS receive time - capture stamp);
psutil samples every process's RSS once per ``--sample-interval``.

``--seconds`` counts from the first result.  The first ``--warmup`` seconds (default 10 % of
the run, 10..30 s) are excluded; the rest is cut into windows (``--window``, default 60 s, or
a sixth of the measured time for runs shorter than 6 minutes).  Printed: per window the
delivered frames/s, p50/p95 latency and every process's RSS; then the verdict.

Pass criteria (exit code 0; 1 = a criterion failed, 2 = the graph could not be run):
* RSS growth < ``--max-rss-growth`` (5 %) for every graph process: median RSS of the last
  window vs the first window after the warm-up;
* latency drift <= ``--max-p95-drift`` (20 %): median p95 of the last third of the windows vs
  the first third, with ``--p95-slack-ms`` (default 1 ms) added to the reference so that
  sub-millisecond jitter on a small p95 does not count;
* the graph stays up: no process exits, every window has results, and the delivered rate is
  at least ``--min-delivery`` (50 %) of --fps (a stalled graph cannot pass).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path
from typing import Any

from benchlib import environment, inputs


def build_arg_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--seconds", type=float, default=600.0,
                    help="run time from the first result, warm-up included (default 600)")
    ap.add_argument("--fps", type=float, default=30.0, help="camera rate (default 30)")
    ap.add_argument("--mode", choices=["processes", "pipeline"], default="processes")
    ap.add_argument("--clip", default="grid1",
                    help="gridN, hard, sample or a video file, as bench.py's --clips "
                         "(default grid1)")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds excluded at the start (default 10%% of --seconds, 10..30)")
    ap.add_argument("--window", type=float, default=None,
                    help="latency/RSS window in seconds (default 60, or measured/6 if shorter)")
    inputs.add_graph_options(ap)
    ap.add_argument("--sample-interval", type=float, default=1.0,
                    help="seconds between RSS samples (default 1)")
    ap.add_argument("--max-rss-growth", type=float, default=0.05)
    ap.add_argument("--max-p95-drift", type=float, default=0.20)
    ap.add_argument("--p95-slack-ms", type=float, default=1.0)
    ap.add_argument("--min-delivery", type=float, default=0.5)
    ap.add_argument("--json", default=None, help="write the results to this JSON file")
    ap.add_argument("--log-dir", type=Path, default=environment.OUT_DIR / "logs")
    return ap


def main(argv: list[str] | None = None) -> int:
    environment.prepare()       # first: the options import fer_ros, from this tree
    args = build_arg_parser().parse_args(argv)
    from benchlib.environment import REPO, REPORT_COMMIT, load_average, log, machine_info
    from benchlib.graph import GraphRun, RunSpec
    from benchlib.report import write_json
    from benchlib.soak import default_warmup, default_window, evaluate, print_report, watch

    from training.provenance import git_commit

    if args.seconds <= 0 or args.fps <= 0:
        raise SystemExit("soak: --seconds and --fps must be > 0")
    warmup = default_warmup(args.seconds) if args.warmup is None else args.warmup
    measured = args.seconds - warmup
    if measured <= 0:
        raise SystemExit("soak: --warmup must be shorter than --seconds")
    window = default_window(measured) if args.window is None else args.window
    if args.model:
        model = args.model.expanduser().resolve()
        if not model.is_file():
            raise SystemExit(f"soak: model not found: {model}")
    else:
        model = inputs.default_model()
    clip = inputs.resolve_clip(args.clip)
    spec = RunSpec(mode=args.mode, clip=clip, rate=args.fps, model=model,
                   params_file=args.params_file or inputs.default_params_file(),
                   detector=args.detector, seconds=measured, warmup=warmup,
                   namespace=f"/fer_soak_{os.getpid()}", launcher=args.launcher,
                   annotated=args.annotated)
    res: dict[str, Any] = {"machine": machine_info(), "commit": git_commit(REPO, **REPORT_COMMIT),
                           "mode": args.mode,
                           "source": str(clip.path), "fps": args.fps, "seconds": args.seconds,
                           "warmup": warmup, "window": window, "model": str(model),
                           "criteria": {"max_rss_growth": args.max_rss_growth,
                                        "max_p95_drift": args.max_p95_drift,
                                        "p95_slack_ms": args.p95_slack_ms,
                                        "min_delivery": args.min_delivery}}
    log_dir = Path(args.log_dir) / time.strftime("soak-%Y%m%d-%H%M%S")
    run = GraphRun(spec, log_dir, sample_interval=args.sample_interval)
    log(f"soak: {spec.name}, {args.seconds:g} s ({warmup:g} s warm-up, {window:.3g} s windows)"
        f"; logs in {log_dir}")
    try:
        try:
            run.start()
        except Exception as exc:  # noqa: BLE001 - reported, the soak exits 2
            log(f"soak: cannot run the graph: {exc}")
            res["error"] = str(exc)
            if args.json:
                write_json(args.json, res)
            return 2
        wall0, mono0, error = watch(run, warmup, args.seconds, window)
        time.sleep(1.0)   # results of the window's last frames
        end = min(args.seconds, time.monotonic() - mono0 - 1.0)
        res.update(evaluate(run, wall0, mono0, warmup, end, window, args))
        if error:
            res["error"] = error
            res["passed"] = False
            res["checks"].append({"what": error.splitlines()[0], "value": float("nan"),
                                  "ok": False})
    finally:
        run.stop()
    res["exit_codes"] = run.exit_codes
    res["load_average_end"] = load_average()
    print_report(res)
    if args.json:
        write_json(args.json, res)
        print(f"wrote {args.json}")
    return 0 if res["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
