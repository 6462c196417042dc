"""Tests for course_utils.data.recordings: folders of {label}_{speaker}_{index}.wav files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from course_utils.data.recordings import Recording, RecordingFolder, load_recordings

WAVS = {"3_jackson_0.wav": 8000, "7_theo_12.wav": 8000}


def wav_bytes(sample_rate: int, seconds: float = 0.1, channels: int = 1) -> bytes:
    t = np.arange(int(sample_rate * seconds)) / sample_rate
    tone = (0.5 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    buffer = io.BytesIO()
    sf.write(buffer, np.stack([tone] * channels, axis=1), sample_rate, format="WAV")
    return buffer.getvalue()


@pytest.fixture
def recordings_dir(tmp_path):
    folder = tmp_path / "recordings"
    folder.mkdir()
    for name, rate in WAVS.items():
        (folder / name).write_bytes(wav_bytes(rate))
    (folder / "0_george_1.wav").write_bytes(wav_bytes(16000, channels=2))  # resampled to 8 kHz
    (folder / "README.txt").write_text("not audio")
    (folder / "notes.wav").write_bytes(wav_bytes(8000))  # does not match the naming: skipped
    return folder


def test_load_recordings_parses_names_and_skips_others(recordings_dir):
    recordings = load_recordings(recordings_dir)
    assert recordings[0] == Recording(recordings_dir / "0_george_1.wav", "0", "george", 1, 8000)
    assert [(r.label, r.speaker, r.index) for r in recordings] == [
        ("0", "george", 1),
        ("3", "jackson", 0),
        ("7", "theo", 12),
    ]


@pytest.mark.parametrize("sample_rate, expected", [(8000, 800), (None, 1600), (16000, 1600)])
def test_recording_read_resamples_to_mono(recordings_dir, sample_rate, expected):
    recording = load_recordings(recordings_dir, sample_rate=sample_rate)[0]  # 16 kHz stereo
    waveform, rate = recording.read()
    assert waveform.dtype == torch.float32 and waveform.shape == (expected,)
    assert rate == (sample_rate or 16000)
    # A 440 Hz tone stays a 440 Hz tone: its FFT peak is at 440 Hz after resampling.
    peak_hz = np.argmax(np.abs(np.fft.rfft(waveform.numpy()))) * rate / expected
    assert abs(peak_hz - 440) <= rate / expected


def test_recording_folder_dataset(recordings_dir):
    data = RecordingFolder(recordings_dir, labels={"0": 0, "3": 3, "7": 7})
    assert len(data) == 3
    item = data[1]
    assert item["label"] == "3" and item["speaker"] == "jackson" and item["target"] == 3
    assert item["sample_rate"] == 8000 and item["waveform"].shape == (800,)
    assert item["path"] == str(recordings_dir / "3_jackson_0.wav")
    assert "target" not in RecordingFolder(recordings_dir)[0]
    with pytest.raises(ValueError, match=r"\['7'\]"):
        RecordingFolder(recordings_dir, labels={"0": 0, "3": 3})


def test_empty_folder_explains_the_naming(tmp_path):
    (tmp_path / "deep").mkdir()
    with pytest.raises(FileNotFoundError, match=r"\{label\}_\{speaker\}_\{index\}\.wav"):
        load_recordings(tmp_path)
    (tmp_path / "deep" / "1_lucas_0.wav").write_bytes(wav_bytes(8000))
    with pytest.raises(FileNotFoundError, match="did you mean .*deep"):
        load_recordings(tmp_path)


def test_corrupt_wav_names_the_file(recordings_dir):
    (recordings_dir / "5_nicolas_3.wav").write_bytes(b"RIFF garbage that is not a wav")
    with pytest.raises(ValueError, match="5_nicolas_3.wav"):
        load_recordings(recordings_dir)


def test_empty_wav_is_reported_on_read(tmp_path):
    sf.write(tmp_path / "1_theo_0.wav", np.zeros(0, dtype=np.float32), 8000)
    (recording,) = load_recordings(tmp_path)
    with pytest.raises(ValueError, match="1_theo_0.wav"):
        recording.read()


def test_recordings_folder_reads_the_environment(tmp_path, monkeypatch):
    from course_utils.data.recordings import recordings_folder

    monkeypatch.delenv("COURSE_RECORDINGS", raising=False)
    assert recordings_folder() is None
    monkeypatch.setenv("COURSE_RECORDINGS", "  ")
    assert recordings_folder() is None
    monkeypatch.setenv("COURSE_RECORDINGS", str(tmp_path))
    assert recordings_folder() == tmp_path
    monkeypatch.setenv("COURSE_RECORDINGS", str(tmp_path / "missing"))
    with pytest.raises(FileNotFoundError, match="COURSE_RECORDINGS=.*is not a folder"):
        recordings_folder()


def test_fetch_fsdd_pins_the_archive_and_returns_its_recordings(tmp_path, monkeypatch):
    """Offline: the archive is served from the cache, so its digest is what is checked."""
    import tarfile

    from course_utils.core.fetch import ChecksumError
    from course_utils.data import recordings

    archive = tmp_path / "free-spoken-digit-dataset-1.0.9.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        wav = tmp_path / "3_jackson_0.wav"
        wav.write_bytes(wav_bytes(8000))
        tar.add(wav, arcname="free-spoken-digit-dataset-1.0.9/recordings/3_jackson_0.wav")
    with pytest.raises(ChecksumError, match="SHA-256"):  # not the published archive
        recordings.fetch_fsdd(cache_dir=tmp_path)
    from course_utils.core.fetch import sha256_of

    monkeypatch.setattr(recordings, "FSDD_SHA256", sha256_of(archive))
    folder = recordings.fetch_fsdd(cache_dir=tmp_path)
    stem = "free-spoken-digit-dataset-1.0.9"  # the archive's folder, inside its own folder
    assert folder == tmp_path / stem / stem / "recordings"
    assert [r.label for r in load_recordings(folder)] == ["3"]
    assert recordings.FSDD_URL.startswith("https://") and len(recordings.FSDD_SHA256) == 64


@pytest.mark.parametrize(
    "label, word", [("3", "three"), ("0", "zero"), ("Stop", "stop"), ("12", "12")]
)
def test_a_recording_names_the_word_said(label, word):
    assert Recording(Path("x.wav"), label, "ann", 0).word == word
