"""training.cost: the paced timing calls once per camera frame, idle between."""

from __future__ import annotations

import time

import pytest

from training.cost import time_paced


def test_paced_calls_are_one_frame_interval_apart_and_each_is_timed():
    starts = []

    def call():
        starts.append(time.perf_counter())
        time.sleep(0.002)

    times = time_paced(call, rate_hz=50.0, calls=8, warmup=2)
    assert len(times) == 8 and len(starts) == 10
    # paced call k is due 1/50 s * (k + 1) after the warm-up calls (the second one ended
    # 2 ms after it started) and never starts early; a late one shortens the next gap
    # (a camera's clock does not wait for a slow frame), so gaps alone prove nothing
    due = [starts[1] + 0.002 + (k + 1) / 50.0 for k in range(8)]
    assert all(start >= tick for start, tick in zip(starts[2:], due))
    assert min(times) >= 0.002             # each call is timed ...
    assert sum(times[:-1]) < starts[-1] - starts[2] - 0.1   # ... without the waits between


def test_cost_per_face_names_the_cpu_and_both_timings(tiny_model):
    from training.cost import cost_per_face
    from training.provenance import cpu_info, cpu_text

    entry = cost_per_face(tiny_model, num_threads=1, seconds=0.2)
    assert entry["cpu"] == cpu_text(cpu_info()) and entry["simd"] == cpu_info()["simd"]
    assert entry["num_threads"] == 1 and entry["file"] == tiny_model.name
    assert entry["back_to_back_ms"] > 0 and entry["paced_ms"] > 0
    assert entry["paced_rate_hz"] == 30.0


def test_export_cards_only_cost_keeps_one_entry_per_cpu_and_thread_count(tiny_model,
                                                                         tmp_path):
    import json
    import shutil

    from training import export

    model = tmp_path / tiny_model.name
    shutil.copy(tiny_model, model)
    shutil.copy(str(tiny_model) + ".json", str(model) + ".json")
    other_cpu = {"cpu": "Another CPU: AVX2", "num_threads": 2, "paced_ms": 9.9}
    card = json.loads(model.with_name(model.name + ".json").read_text())
    card["cost_per_face"] = [other_cpu]
    model.with_name(model.name + ".json").write_text(json.dumps(card))

    for _ in range(2):          # measured twice here: the second replaces the first
        assert export.main(["--cards-only", str(model), "--cost"]) == 0
    card = json.loads(model.with_name(model.name + ".json").read_text())
    assert card["cost_per_face"][0] == other_cpu
    assert len(card["cost_per_face"]) == 2 and card["cost_per_face"][1]["num_threads"] == 2
    assert card["note"].startswith("tiny untrained")     # the rest of the card is kept


def test_export_cards_only_needs_something_to_add(tiny_model):
    from training import export

    with pytest.raises(SystemExit):
        export.main(["--cards-only", str(tiny_model)])
