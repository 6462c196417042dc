"""The Microphone widget end to end: Chromium's fake microphone plays an eSpeak recording, the
widget sends it to the kernel, lesson 08's recogniser writes what it heard under the button."""

import time

import browser_lab as lab  # registered by tests/browser/conftest.py
import nbformat
import numpy as np
import pytest
import soundfile as sf
from scipy import signal

from course_utils.audio.microphone import ERRORS
from course_utils.data import espeak

# One word, as a learner would say it: lesson 08's recogniser also learnt isolated digits.
SAID = "three"
FILE_RATE = 16000
SILENCE = 0.3  # seconds before and after the speech in the fake microphone's file

RECOGNISE = """
import numpy as np
import torch
from course_utils.asr import load_recognizer, recognize
from course_utils.audio import Microphone

model, _ = load_recognizer()
---
def heard(waveform, sample_rate):
    np.savez({result!r}, waveform=waveform, sample_rate=sample_rate)
    print("heard:", recognize(model, torch.from_numpy(waveform), sample_rate))


mic = Microphone(max_seconds={max_seconds}, on_recording=heard)
mic
"""
PLAIN = """
from course_utils.audio import Microphone

mic = Microphone()
mic
"""


def _write_notebook(path, source: str) -> None:
    cells = [nbformat.v4.new_code_cell(cell.strip()) for cell in source.split("---")]
    notebook = nbformat.v4.new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3"}
    nbformat.write(notebook, path)


def _peak_correlation(recording: np.ndarray, speech: np.ndarray) -> float:
    """Largest normalised cross-correlation of `speech` with any stretch of `recording`."""
    dot = signal.correlate(recording, speech, mode="valid")
    energy = np.convolve(recording**2, np.ones(len(speech)), mode="valid")
    return float(np.max(dot / np.sqrt(energy * np.sum(speech**2) + 1e-12)))


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    """A JupyterLab server on a folder holding the fake microphone's file and two notebooks."""
    folder = tmp_path_factory.mktemp("microphone")
    speech = espeak.synthesize(SAID, sample_rate=FILE_RATE)
    pad = np.zeros(int(SILENCE * FILE_RATE), dtype=np.float32)
    sf.write(folder / "said.wav", np.concatenate([pad, speech, pad]), FILE_RATE, "PCM_16")
    seconds = 2 * SILENCE + len(speech) / FILE_RATE
    source = RECOGNISE.format(result=str(folder / "received.npz"), max_seconds=np.ceil(seconds + 1))
    _write_notebook(folder / "recognise.ipynb", source)
    _write_notebook(folder / "plain.ipynb", PLAIN)
    with lab.LabServer(folder, tmp_path_factory.mktemp("lab")) as server:
        yield server, folder, speech, seconds


def test_a_spoken_digit_reaches_the_kernel_and_the_recogniser(served):
    server, folder, speech, seconds = served
    fake_microphone = (
        "--use-fake-device-for-media-stream",  # a fake microphone ...
        "--use-fake-ui-for-media-stream",  # ... allowed without asking
        f"--use-file-for-fake-audio-capture={folder / 'said.wav'}%noloop",  # plays it once
    )
    with lab.chromium(*fake_microphone) as driver:
        page = lab.LabPage(driver, server, "recognise.ipynb")
        cells = page.run_all(timeout=120)
        assert not lab.LabPage.errors(cells), lab.LabPage.errors(cells)
        page.wait_for_text("click Record and speak", css=".course-mic-status")
        page.click(".course-mic-button")
        page.wait_for_text("recording at", css=".course-mic-status", timeout=20)
        time.sleep(seconds + 0.3)
        page.click(".course-mic-button")  # Stop
        status = page.wait_for_text("to Python", css=".course-mic-status", timeout=20)
        shown = page.wait_for_text("heard:", css=".widget-output .jp-OutputArea-output")
        received = dict(np.load(folder / "received.npz"))  # saved before it printed
        # A recording stops by itself after max_seconds, set from the kernel this time; 3.5 s
        # makes a payload larger than 3 s at 48 kHz (576 KB) at any rate from 44.1 kHz.
        page.kernel_output("mic.max_seconds = 3.5")
        page.wait_for_text("up to 3.5 s", css=".course-mic-status")
        page.click(".course-mic-button")
        page.wait_for_text("sent 3.50 s", css=".course-mic-status", timeout=20)
        counts = page.kernel_output("print(mic.recordings, len(mic.waveform), mic.sample_rate)")

    waveform, rate = received["waveform"], int(received["sample_rate"])
    assert waveform.dtype == np.float32 and waveform.ndim == 1, status
    duration = len(waveform) / rate
    assert seconds <= duration <= seconds + 2.0, (duration, seconds, status)
    back = signal.resample_poly(waveform, FILE_RATE, rate).astype(np.float32)
    assert _peak_correlation(back, speech) > 0.9, (rate, duration)
    assert shown.strip() == f"heard: {SAID}", shown
    assert counts.split() == ["2", str(round(3.5 * rate)), str(rate)], counts


@pytest.mark.parametrize(
    "flags, message",
    [
        ((), ERRORS["missing"]),  # this machine has no sound card
        (("--use-fake-device-for-media-stream", "--deny-permission-prompts"), ERRORS["denied"]),
    ],
    ids=["no microphone", "permission denied"],
)
def test_the_widget_says_why_it_cannot_record(served, flags, message):
    server = served[0]
    with lab.chromium(*flags) as driver:
        page = lab.LabPage(driver, server, "plain.ipynb")
        assert not lab.LabPage.errors(page.run_all(timeout=60))
        page.click(".course-mic-button")
        page.wait_for_text(message, css=".course-mic-status.course-mic-error", timeout=20)
        assert page.kernel_output("print(mic.error)").strip() == message
