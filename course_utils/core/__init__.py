"""The foundations every lesson stands on: runtime, profiles, checks, files, fetch.

Where the course runs (device, seeds, data folder), the profile that sizes every lesson,
input checks with clear errors, tensors back to numpy and padded batches, atomic writes, the
keyed cache of generated data, the fetch helper for real data sets, and the check that torch
and torchaudio load together (run first, on `import course_utils`).

Notebook: 00_welcome_and_setup.
"""

# First: torch and torchaudio must load together (see environment.py).
from .environment import ensure_torch_stack

ensure_torch_stack()

from . import cache, checks, environment, files, profiles, runtime, tensors
from .cache import (
    config_key,
    load_npz,
    load_or_build,
    save_npz,
)
from .checks import (
    check_features,
    check_float_waveform,
    check_integer,
    check_lengths,
    check_number,
    check_rng,
    check_sample_rate,
    check_shape,
    check_waveform,
)
from .environment import (
    LOCK_FILE,
    TorchStackError,
    check_torch_stack,
    ensure_torch_stack,
    find_repo_root,
    installed_versions,
    lock_drift,
    read_lock,
    repair_command,
)
from .fetch import (
    ChecksumError,
    CorruptArchiveError,
    FetchError,
    UnsafeArchiveError,
    fetch,
    sha256_of,
)
from .files import (
    FileExistsNotOverwrittenError,
    atomic_write,
)
from .profiles import (
    PROFILE_ENV,
    PROFILES,
    Profile,
    get_profile,
    register_section,
)
from .runtime import (
    cpu_threads,
    data_dir,
    environment_report,
    get_device,
    is_static,
    require_version,
    set_seed,
)
from .tensors import (
    pad_batch,
    to_numpy,
)

__all__ = [
    "cache",
    "checks",
    "environment",
    "files",
    "profiles",
    "runtime",
    "tensors",
    "atomic_write",
    "check_features",
    "check_float_waveform",
    "check_integer",
    "check_lengths",
    "check_number",
    "check_rng",
    "check_sample_rate",
    "check_shape",
    "check_torch_stack",
    "check_waveform",
    "ChecksumError",
    "config_key",
    "CorruptArchiveError",
    "cpu_threads",
    "data_dir",
    "ensure_torch_stack",
    "environment_report",
    "fetch",
    "FetchError",
    "FileExistsNotOverwrittenError",
    "find_repo_root",
    "get_device",
    "is_static",
    "get_profile",
    "installed_versions",
    "load_npz",
    "load_or_build",
    "lock_drift",
    "LOCK_FILE",
    "pad_batch",
    "Profile",
    "PROFILE_ENV",
    "PROFILES",
    "read_lock",
    "repair_command",
    "require_version",
    "save_npz",
    "set_seed",
    "sha256_of",
    "to_numpy",
    "TorchStackError",
    "UnsafeArchiveError",
    "register_section",
]
