"""Folders of real recordings named ``{label}_{speaker}_{index}.wav``.

The Free Spoken Digit Dataset (8 kHz, mono) names its files this way, and so can anyone who
records their own voice. Lessons evaluate models trained on the synthetic corpus on such a
folder, when a learner has one, to show how well they carry over to real human speech.

Notebook: 05_audio_features_and_data (and 06_audio_classification).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import soundfile as sf
import torch
from torch.utils.data import Dataset

from ..audio import load_audio
from ..core import check_sample_rate, fetch
from .texts import DIGITS

__all__ = [
    "FSDD_SHA256",
    "FSDD_URL",
    "RECORDING_PATTERN",
    "Recording",
    "RecordingFolder",
    "fetch_fsdd",
    "load_recordings",
    "recordings_folder",
]

# The Free Spoken Digit Dataset, release 1.0.9 (six speakers, 3,000 recordings at 8 kHz,
# CC BY-SA 4.0), pinned by the SHA-256 TensorFlow Datasets publishes for the same archive.
FSDD_URL = "https://github.com/Jakobovski/free-spoken-digit-dataset/archive/v1.0.9.tar.gz"
FSDD_SHA256 = "8bc44cde129d505cbbb6b365c09f80c663f2aa77578afc634e6141a2f87100c0"
RECORDING_PATTERN = re.compile(r"(?P<label>[^_]+)_(?P<speaker>[^_]+)_(?P<index>\d+)\.wav", re.I)


@dataclass(frozen=True)
class Recording:
    """One ``{label}_{speaker}_{index}.wav`` file, read at `sample_rate` by `read()`.

    Args:
        path: the wav file.
        label: what is said, e.g. "3".
        speaker: who says it, e.g. "jackson".
        index: take number of that speaker and label.
        sample_rate: rate in Hz `read()` returns; None keeps the file's own rate.
    """

    path: Path
    label: str
    speaker: str
    index: int
    sample_rate: int | None = 8000

    @property
    def word(self) -> str:
        """The word said, as the course writes it: "3" -> "three", "Stop" -> "stop"."""
        label = self.label
        return DIGITS[int(label)] if label.isdigit() and len(label) == 1 else label.lower()

    def read(self) -> tuple[torch.Tensor, int]:
        """Return (waveform, sample_rate): float32 mono waveform (time,) and its rate in Hz."""
        return load_audio(self.path, sample_rate=self.sample_rate, mono=True)


def load_recordings(folder: str | os.PathLike, sample_rate: int | None = 8000) -> list[Recording]:
    """List the ``{label}_{speaker}_{index}.wav`` files in `folder`, sorted by label and speaker.

    Files named otherwise are skipped. Each file's header is read now, so a damaged file is
    reported here rather than halfway through training.

    Args:
        folder: folder holding the wav files (not its subfolders).
        sample_rate: rate in Hz the recordings' `read()` returns; None keeps each file's own.

    Returns:
        the recordings, sorted by (label, speaker, index).

    Example:
        >>> recordings = load_recordings("data/fsdd/recordings")  # doctest: +SKIP
        >>> waveform, sample_rate = recordings[0].read()  # doctest: +SKIP

    Notebook: 05_audio_features_and_data
    """
    if sample_rate is not None:
        sample_rate = check_sample_rate(sample_rate)
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder")
    found = []
    for path in sorted(folder.iterdir()):
        match = RECORDING_PATTERN.fullmatch(path.name)
        if match and path.is_file():
            try:
                sf.info(str(path))
            except (sf.SoundFileError, RuntimeError) as e:
                raise ValueError(f"cannot read audio file {path}: {e}") from e
            label, speaker, index = match["label"], match["speaker"], int(match["index"])
            found.append(Recording(path, label, speaker, index, sample_rate))
    if not found:
        nested = next(
            (p.parent for p in folder.rglob("*.wav") if RECORDING_PATTERN.fullmatch(p.name)), None
        )
        raise FileNotFoundError(
            f"no recordings in {folder}: expected wav files named {{label}}_{{speaker}}_{{index}}"
            ".wav, e.g. 3_jackson_0.wav" + (f"; did you mean {nested}?" if nested else "")
        )
    return sorted(found, key=lambda r: (r.label, r.speaker, r.index))


class RecordingFolder(Dataset):
    """A torch Dataset over a folder of ``{label}_{speaker}_{index}.wav`` recordings.

    Each item is a dict: "waveform" float32 (time,), "sample_rate" int, "label" str,
    "speaker" str, "path" str, and "target" int when `labels` is given.

    Args:
        folder: folder holding the wav files.
        sample_rate: rate in Hz to return (default 8000, FSDD's own); None keeps each file's.
        labels: optional map from label to class index, e.g. {"0": 0, ..., "9": 9}.

    Example:
        >>> digits = {str(d): d for d in range(10)}
        >>> data = RecordingFolder("data/fsdd/recordings", labels=digits)  # doctest: +SKIP
        >>> data[0]["waveform"].shape  # doctest: +SKIP
        torch.Size([2851])

    Notebook: 05_audio_features_and_data
    """

    def __init__(
        self,
        folder: str | os.PathLike,
        sample_rate: int | None = 8000,
        labels: Mapping[str, int] | None = None,
    ) -> None:
        self.recordings = load_recordings(folder, sample_rate)
        self.labels = dict(labels) if labels is not None else None
        if self.labels is not None:
            missing = sorted({r.label for r in self.recordings} - set(self.labels))
            if missing:
                raise ValueError(f"labels has no class index for {missing} found in {folder}")

    def __len__(self) -> int:
        return len(self.recordings)

    def __getitem__(self, i: int) -> dict:
        recording = self.recordings[i]
        waveform, rate = recording.read()
        item = {
            "waveform": waveform,
            "sample_rate": rate,
            "label": recording.label,
            "speaker": recording.speaker,
            "path": str(recording.path),
        }
        if self.labels is not None:
            item["target"] = self.labels[recording.label]
        return item


def fetch_fsdd(cache_dir: str | os.PathLike | None = None) -> Path:
    """Download the Free Spoken Digit Dataset once (12 MB) and return its recordings folder.

    Needs internet the first time; never called by a lesson unless the learner asks. The
    archive's SHA-256 is checked (`FSDD_SHA256`) and it is unpacked safely by
    `course_utils.fetch` into ``data/downloads/`` (or `cache_dir`).

    Returns:
        the folder of ``{digit}_{speaker}_{index}.wav`` files, for `load_recordings`.

    Raises:
        course_utils.core.fetch.FetchError: offline, or the server cannot be reached.
    """
    folder = fetch(FSDD_URL, FSDD_SHA256, cache_dir, "free-spoken-digit-dataset-1.0.9.tar.gz",
                   extract=True)  # fmt: skip
    return folder / "free-spoken-digit-dataset-1.0.9" / "recordings"


def recordings_folder() -> Path | None:
    """The folder ``COURSE_RECORDINGS`` names, or None when it is unset or empty.

    Lessons and benchmarks score on real speech only where a learner or a teacher has set it
    (e.g. to the folder `fetch_fsdd` returns, or to their own recordings).

    Raises:
        FileNotFoundError: it is set but is not a folder.
    """
    value = os.environ.get("COURSE_RECORDINGS", "").strip()
    if not value:
        return None
    folder = Path(value).expanduser()
    if not folder.is_dir():
        raise FileNotFoundError(
            f"COURSE_RECORDINGS={value!r} is not a folder: point it at a folder of "
            "{label}_{speaker}_{index}.wav files, or unset it"
        )
    return folder
