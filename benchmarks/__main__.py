"""Run every benchmark and write its figures under results/ (JSON each, one markdown table).

python -m benchmarks            # all
python -m benchmarks corpus     # only those whose name contains "corpus"
"""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

import torch

from course_utils.core import atomic_write

RESULTS = Path(__file__).resolve().parents[1] / "results"
BENCHMARKS = (
    "corpus",
    "attention",
    "classification",
    "sed",
    "asr",
    "tts",
    "codec",
    "restoration",
    "longform",
    "audiotext",
    "realspeech",
    "threads",
)  # modules benchmarks/bench_<name>.py, each with run() -> list[dict]


def machine() -> str:
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    threads = torch.get_num_threads()
    cpu = platform.processor() or platform.machine()
    return f"{cpu}, {threads} thread{'s' * (threads > 1)}, {gpu}"


def atomic_write_text(path: Path, text: str) -> None:
    """Replace `path` in one step: an interrupted run leaves the last complete file."""
    with atomic_write(path, overwrite=True) as temporary:
        temporary.write_text(text)


def write_table(rows: list[dict]) -> str:
    """results/README.md: one table per benchmark, each headed by when and where it ran."""
    lines = ["# Benchmark results", "", "Written by `make bench` (`python -m benchmarks`).", ""]
    for name in dict.fromkeys(row["benchmark"] for row in rows):
        own = [row for row in rows if row["benchmark"] == name]
        stamp = own[0]
        if "date" in stamp:
            seconds = stamp["run_seconds"]
            measured = f"Measured {stamp['date']} on {stamp['machine']}, in {seconds:,} s."
        else:
            measured = "Date and machine not recorded (a run from before the figures were stamped)."
        lines += [f"## {name}", "", measured, "",
                  "| measure | value | target | met |", "|---|---|---|---|"]  # fmt: skip
        for row in own:
            met = "" if row.get("met") is None else ("yes" if row["met"] else "**no**")
            value = row["value"]
            if isinstance(value, dict):  # several figures: "seconds 0.02, peak_mib 32.2"
                value = ", ".join(f"{key} {figure}" for key, figure in value.items())
            value = f"{value} {row.get('unit', '')}".strip()
            lines.append(f"| {row['measure']} | {value} | {row.get('target', '')} | {met} |")
        lines.append("")
    return "\n".join(lines)


def main(argv: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    wanted = [name for name in BENCHMARKS if not argv or any(a in name for a in argv)]
    threads = torch.get_num_threads()  # each benchmark starts with these
    for name in wanted:
        print(f"== {name}", flush=True)
        stamp = {"date": time.strftime("%Y-%m-%d"), "machine": machine()}  # as it starts
        start = time.perf_counter()
        rows = importlib.import_module(f"benchmarks.bench_{name}").run()
        stamp["run_seconds"] = round(time.perf_counter() - start)
        torch.set_num_threads(threads)  # undo a benchmark's own choice before the next one
        rows = [{**row, **stamp} for row in rows]
        atomic_write_text(RESULTS / f"{name}.json", json.dumps(rows, indent=2) + "\n")
        for row in rows:
            print(
                f"  {row['measure']}: {row['value']} {row.get('unit', '')}"
                f" (target {row.get('target', '-')})"
            )
    rows = [row for path in sorted(RESULTS.glob("*.json")) for row in json.loads(path.read_text())]
    atomic_write_text(RESULTS / "README.md", write_table(rows))
    print(f"wrote {RESULTS / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
