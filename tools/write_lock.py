"""Write the running environment's exact versions to a lock file (`make lock` calls this).

Usage: python tools/write_lock.py requirements.lock

The lock is what every install of the course uses as pip constraints (`-c requirements.lock`):
the versions the whole test suite passed with. It is written atomically: a failed run
leaves the previous lock as it was.
"""

import os
import platform
import subprocess
import sys
from pathlib import Path

HEADER = """\
# The exact versions the course's whole test suite (`make test`) passed with. Every install
# uses them as pip constraints: make lab / test / book / bench, .ci/run and environment.yml.
# Written by `make lock` from the ranges in pyproject.toml; commit a new lock only after
# `make test` passes with it (README, "Dependencies and the lock").
# Resolved on Python {python} ({system} {machine}).
"""


def main(path: str) -> None:
    frozen = subprocess.run(
        [sys.executable, "-m", "pip", "freeze", "--all", "--exclude-editable"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pins = sorted(
        (line for line in frozen.splitlines() if "==" in line and not line.startswith("#")),
        key=str.lower,
    )
    header = HEADER.format(
        python=platform.python_version(), system=platform.system(), machine=platform.machine()
    )
    target = Path(path)
    partial = target.with_name(target.name + ".part")
    partial.write_text(header + "\n".join(pins) + "\n")
    os.replace(partial, target)
    print(f"{target}: {len(pins)} packages")


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    main(sys.argv[1])
