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
    return f"{platform.processor() or platform.machine()}, {torch.get_num_threads()} threads, {gpu}"


def write_table(rows: list[dict]) -> str:
    lines = [
        "# Benchmark results",
        "",
        f"Written by `make bench` on {time.strftime('%Y-%m-%d')}; machine: {machine()}.",
        "",
        "| benchmark | measure | value | target | met |",
        "|---|---|---|---|---|",
    ]
    for row in rows:
        met = "" if row.get("met") is None else ("yes" if row["met"] else "**no**")
        lines.append(
            f"| {row['benchmark']} | {row['measure']} | {row['value']} {row.get('unit', '')} "
            f"| {row.get('target', '')} | {met} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    RESULTS.mkdir(exist_ok=True)
    wanted = [name for name in BENCHMARKS if not argv or any(a in name for a in argv)]
    for name in wanted:
        print(f"== {name}", flush=True)
        rows = importlib.import_module(f"benchmarks.bench_{name}").run()
        (RESULTS / f"{name}.json").write_text(json.dumps(rows, indent=2) + "\n")
        for row in rows:
            print(
                f"  {row['measure']}: {row['value']} {row.get('unit', '')}"
                f" (target {row.get('target', '-')})"
            )
    rows = [row for path in sorted(RESULTS.glob("*.json")) for row in json.loads(path.read_text())]
    (RESULTS / "README.md").write_text(write_table(rows))
    print(f"wrote {RESULTS / 'README.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
