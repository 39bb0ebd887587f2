#!/usr/bin/env python3
"""Soak test: run the fer_ros graph for a long time at a fixed rate; check memory and latency.

    python scripts/soak.py --seconds 600 --fps 30            # the release check (10 min)
    python scripts/soak.py --seconds 60                      # the CI version (test/test_soak.py)
    python scripts/soak.py --mode pipeline --faces 5 --json bench_out/soak.json

The graph runs as in scripts/bench.py (``processes``: four node processes, default;
``pipeline``: the single-process runner), the camera publishing ``--source`` at ``--fps``,
looped.  The default source is a rendered grid clip with ``--faces`` faces (as in bench.py,
20 s, so it also exercises the rewind path): its content hardly changes, so the latency is
stationary and a drift means the graph slowed down.  (The built-in sample clip, ``--source
sample``, mixes close-ups, small faces and face-free frames in a 12 s cycle: its latency
follows the content, and windows that are not a multiple of the cycle see that as noise.)
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

sys.path.insert(0, str(Path(__file__).resolve().parent))

import bench  # noqa: E402  (sets ROS_DOMAIN_ID / discovery range before rclpy is imported)
from bench import GraphRun, RunSpec, log  # noqa: E402

from fer_ros import metrics  # noqa: E402

MIB = 2**20


def default_warmup(seconds: float) -> float:
    return min(30.0, max(10.0, 0.1 * seconds), 0.5 * seconds)


def default_window(measured_s: float) -> float:
    return 60.0 if measured_s >= 360.0 else max(1.0, measured_s / 6.0)


def build_arg_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog=__doc__.split("\n\n", 1)[1])
    ap.add_argument("--seconds", type=float, default=600.0,
                    help="run time from the first result, warm-up included (default 600)")
    ap.add_argument("--fps", type=float, default=30.0, help="camera rate (default 30)")
    ap.add_argument("--mode", choices=["processes", "pipeline"], default="processes")
    ap.add_argument("--source", default="auto",
                    help="'auto' (default: a rendered grid clip with --faces faces), 'sample' "
                         "(the built-in clip) or a video file / device / folder")
    ap.add_argument("--faces", type=int, default=1, help="faces of the 'auto' clip (default 1)")
    ap.add_argument("--warmup", type=float, default=None,
                    help="seconds excluded at the start (default 10%% of --seconds, 10..30)")
    ap.add_argument("--window", type=float, default=None,
                    help="latency/RSS window in seconds (default 60, or measured/6 if shorter)")
    ap.add_argument("--model", default=None, help="emotion model for the graph (.tflite/.keras; "
                    "default: as bench.py, the int8 model when present, else float32)")
    ap.add_argument("--model-dir", default=None, help="as in bench.py (ignored with --model)")
    ap.add_argument("--detector", choices=["blazeface", "haar"], default=None)
    ap.add_argument("--params-file", default=None)
    ap.add_argument("--launcher", choices=["module", "console"], default="module")
    ap.add_argument("--annotated", choices=["raw", "compressed", "none"], default="raw")
    ap.add_argument("--sample-interval", type=float, default=1.0,
                    help="seconds between RSS samples (default 1)")
    ap.add_argument("--max-rss-growth", type=float, default=0.05)
    ap.add_argument("--max-p95-drift", type=float, default=0.20)
    ap.add_argument("--p95-slack-ms", type=float, default=1.0)
    ap.add_argument("--min-delivery", type=float, default=0.5)
    ap.add_argument("--json", default=None, help="write the results to this JSON file")
    ap.add_argument("--log-dir", default=str(bench.OUT_DIR / "logs"))
    return ap


def _median(values: list[float]) -> float:
    return metrics.percentile(values, 50) if values else float("nan")


def evaluate(run: GraphRun, wall0: float, mono0: float, start_s: float, end_s: float,
             window_s: float, args: argparse.Namespace) -> dict[str, Any]:
    """Windows, RSS growth, drift and the verdict.  Times relative to the first result:
    wall clock = wall0 + t, monotonic = mono0 + t."""
    st = run.measurer.stages
    S = metrics.StageTimes.STAMP
    graph_procs = [n for n in run.sampler.names if n != "bench"]
    windows = []
    for a, b in metrics.window_edges(start_s, end_s, window_s):
        t0, t1 = int((wall0 + a) * 1e9), int((wall0 + b) * 1e9)
        lat = metrics.latency_summary(st.stage_latencies(S, "emotions", t0, t1))
        cam = st.count(t0, t1)
        w = {"t0_s": a, "t1_s": b, "fps": lat["n"] / (b - a), "camera_fps": cam / (b - a),
             "dropped": st.missing(None, "emotions", t0, t1),
             "p50_ms": lat["p50_ms"], "p95_ms": lat["p95_ms"], "p99_ms": lat["p99_ms"],
             "rss_mib": {}}
        for name in run.sampler.names:
            vals = [r for t, r in run.sampler.rss_series(name)
                    if mono0 + a <= t < mono0 + b]
            w["rss_mib"][name] = _median(vals) / MIB if vals else float("nan")
        windows.append(w)

    rss = {}
    for name in run.sampler.names:
        g = metrics.rss_growth(run.sampler.rss_series(name), mono0 + start_s, mono0 + end_s,
                               window_s)
        rss[name] = {"baseline_mib": g["baseline"] / MIB, "final_mib": g["final"] / MIB,
                     "growth_percent": 100 * g["growth"],
                     "trend_mib_per_min": 60 * g["slope_per_s"] / MIB,
                     "max_mib": run.sampler.rss_stats(name)["max_mib"],
                     "cpu_percent": run.sampler.cpu_percent(name, mono0 + start_s,
                                                            mono0 + end_s)}
    drift = metrics.p95_drift([w["p95_ms"] for w in windows], slack=args.p95_slack_ms)
    t0, t1 = int((wall0 + start_s) * 1e9), int((wall0 + end_s) * 1e9)
    overall = metrics.latency_summary(st.stage_latencies(S, "emotions", t0, t1))
    delivered = overall["n"] / (end_s - start_s)

    checks = []
    for name in graph_procs:
        g = rss[name]["growth_percent"]
        checks.append({"what": f"{name}: RSS growth < {100 * args.max_rss_growth:g} %",
                       "value": g, "ok": g == g and g < 100 * args.max_rss_growth})
    d = drift["drift_vs_slack"]
    checks.append({"what": f"p95 latency drift <= {100 * args.max_p95_drift:g} % "
                           f"(late {drift['late']:.1f} ms vs early {drift['reference']:.1f} ms "
                           f"+ {args.p95_slack_ms:g} ms slack)",
                   "value": 100 * d, "ok": d == d and d <= args.max_p95_drift})
    checks.append({"what": f"delivered >= {100 * args.min_delivery:g} % of {args.fps:g} fps",
                   "value": delivered,
                   "ok": delivered >= args.min_delivery * args.fps})
    empty = [i for i, w in enumerate(windows) if not w["fps"]]
    checks.append({"what": "every window has results", "value": float(len(empty)),
                   "ok": not empty})
    dead = [n for n in graph_procs if not run.sampler.alive(n)]
    checks.append({"what": "no process exited", "value": float(len(dead)), "ok": not dead,
                   "detail": dead})
    return {"windows": windows, "rss": rss, "p95_drift": drift, "latency": overall,
            "delivered_fps": delivered, "checks": checks,
            "passed": all(c["ok"] for c in checks)}


def print_report(res: dict[str, Any]) -> None:
    m = res["machine"]
    print(f"\nmachine: {m['cpu_model']}, {m.get('physical_cores')} cores / "
          f"{m['logical_cpus']} logical CPUs, {m.get('memory_gib')} GiB; load average at "
          f"start {m.get('load_average')}, at end {res.get('load_average_end')}")
    print(f"soak: fer_ros {res.get('commit')}, {res['mode']}, {res['source']} at "
          f"{res['fps']:g} fps, {res['seconds']:g} s "
          f"({res['warmup']:g} s warm-up excluded, {res['window']:.3g} s windows), model "
          f"{res['model']}")
    names = list(res["rss"])
    rows = []
    for w in res["windows"]:
        rows.append([f"{w['t0_s']:.0f}-{w['t1_s']:.0f}", w["camera_fps"], w["fps"],
                     w["dropped"], w["p50_ms"], w["p95_ms"], w["p99_ms"]]
                    + [w["rss_mib"].get(n, float("nan")) for n in names])
    print("\nper window (s from the first result): frames/s, latency ms, median RSS MiB")
    print(metrics.format_table(rows, ["window s", "cam fps", "out fps", "dropped", "p50",
                                      "p95", "p99"] + [f"{n} RSS" for n in names]))
    rows = [[n, r["baseline_mib"], r["final_mib"], f"{r['growth_percent']:+.2f}",
             f"{r['trend_mib_per_min']:+.2f}", r["max_mib"], r["cpu_percent"]]
            for n, r in res["rss"].items()]
    print()
    print(metrics.format_table(rows, ["process", "RSS first MiB", "RSS last MiB", "growth %",
                                      "trend MiB/min", "max MiB", "CPU %"]))
    d = res["p95_drift"]
    L = res["latency"]
    print(f"\nlatency over the measured span: p50 {L['p50_ms']:.1f} / p95 {L['p95_ms']:.1f} / "
          f"p99 {L['p99_ms']:.1f} ms ({L['n']} frames, {res['delivered_fps']:.1f} fps); "
          f"p95 drift {100 * d['drift']:+.1f} % (vs reference + slack "
          f"{100 * d['drift_vs_slack']:+.1f} %), largest single-window deviation "
          f"{100 * d['spread']:.0f} %")
    print()
    for c in res["checks"]:
        print(f"  {'PASS' if c['ok'] else 'FAIL'}  {c['what']}  (measured {c['value']:.2f})")
    print(f"\nsoak {'PASSED' if res['passed'] else 'FAILED'}")


def main(argv: list[str] | None = None) -> int:
    args = build_arg_parser().parse_args(argv)
    if args.seconds <= 0 or args.fps <= 0:
        raise SystemExit("soak: --seconds and --fps must be > 0")
    warmup = default_warmup(args.seconds) if args.warmup is None else args.warmup
    measured = args.seconds - warmup
    if measured <= 0:
        raise SystemExit("soak: --warmup must be shorter than --seconds")
    window = default_window(measured) if args.window is None else args.window
    if args.model:
        model = Path(args.model).expanduser().resolve()
        if not model.is_file():
            raise SystemExit(f"soak: model not found: {model}")
    else:
        models, _ = bench.resolve_models(args.model_dir)
        model = models.get("int8", models["tflite"])
    if args.source in ("auto", ""):
        source, label = bench.resolve_source(None, args.faces)
    else:
        source, label = bench.resolve_source(args.source, 0)
    spec = RunSpec(mode=args.mode, source=source, label=label, rate=args.fps, model=model,
                   faces=args.faces if args.source in ("auto", "") else None,
                   detector=args.detector, seconds=measured, warmup=warmup,
                   namespace=f"/fer_soak_{os.getpid()}", launcher=args.launcher,
                   annotated=args.annotated, params_file=args.params_file)
    res: dict[str, Any] = {"machine": metrics.machine_info(), "commit": bench.git_describe(),
                           "mode": args.mode,
                           "source": source, "fps": args.fps, "seconds": args.seconds,
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
        except Exception as exc:  # noqa: BLE001
            log(f"soak: cannot run the graph: {exc}")
            res["error"] = str(exc)
            if args.json:
                bench.write_json(args.json, res)
            return 2
        wall0, mono0 = time.time(), time.monotonic()
        edges = metrics.window_edges(warmup, args.seconds, window)
        error = None
        for a, b in edges:
            while time.monotonic() < mono0 + b:
                time.sleep(min(0.5, max(0.0, mono0 + b - time.monotonic())))
                try:
                    run._check_alive()
                except RuntimeError as exc:
                    error = str(exc)
                    break
            if error:
                break
            t0, t1 = int((wall0 + a) * 1e9), int((wall0 + b) * 1e9)
            lat = metrics.latency_summary(run.measurer.stages.stage_latencies(
                metrics.StageTimes.STAMP, "emotions", t0, t1))
            rss = " ".join(f"{n}={s.rss / MIB:.0f}" for n, s in run.sampler.sample().items())
            log(f"  {a:5.0f}-{b:4.0f} s: {lat['n'] / (b - a):5.1f} fps, p95 "
                f"{lat['p95_ms']:6.1f} ms, RSS MiB {rss}")
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
    res["load_average_end"] = [round(x, 2) for x in os.getloadavg()]
    print_report(res)
    if args.json:
        bench.write_json(args.json, res)
        print(f"wrote {args.json}")
    return 0 if res["passed"] else 1


if __name__ == "__main__":
    sys.exit(main())
