"""Keep notebooks stored clean: no outputs, no execution counts, no editor metadata.

    python tools/clean_notebooks.py notebooks/*.ipynb          # clean in place
    python tools/clean_notebooks.py --check notebooks/*.ipynb  # exit 1 if any is not clean

Rendered lessons come from executing the notebooks (`make book`), so what a reader sees is
always what the code does today.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

KEPT_NOTEBOOK_METADATA = ("kernelspec", "language_info")


def problems(notebook: dict) -> list[str]:
    """What makes `notebook` unclean, one line each (empty when clean)."""
    found = []
    for index, cell in enumerate(notebook.get("cells", [])):
        if cell.get("cell_type") == "code":
            if cell.get("outputs"):
                found.append(f"cell {index} has stored outputs")
            if cell.get("execution_count") is not None:
                found.append(f"cell {index} has an execution count")
        if cell.get("metadata"):
            found.append(f"cell {index} has metadata {sorted(cell['metadata'])}")
    extra = set(notebook.get("metadata", {})) - set(KEPT_NOTEBOOK_METADATA)
    if extra:
        found.append(f"notebook metadata has {sorted(extra)}")
    return found


def clean(notebook: dict) -> dict:
    """A copy of `notebook` with outputs, counts and editor metadata removed."""
    notebook = json.loads(json.dumps(notebook))
    for cell in notebook.get("cells", []):
        cell["metadata"] = {}
        if cell.get("cell_type") == "code":
            cell["outputs"], cell["execution_count"] = [], None
    metadata = notebook.get("metadata", {})
    notebook["metadata"] = {k: metadata[k] for k in KEPT_NOTEBOOK_METADATA if k in metadata}
    return notebook


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="report, do not modify")
    args = parser.parse_args(argv)
    dirty = 0
    for path in args.paths:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        found = problems(notebook)
        if found and args.check:
            dirty += 1
            print(f"{path}: " + "; ".join(found) + " (run `make clean-notebooks`)")
        elif found:
            path.write_text(
                json.dumps(clean(notebook), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
            )
            print(f"cleaned {path}")
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
