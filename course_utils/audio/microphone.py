"""Record a word in the browser and hand it to Python: the `Microphone` widget.

The browser side (an anywidget ES module, `_ESM`) asks for the microphone with
`getUserMedia`, with echo cancellation, noise suppression and automatic gain turned off so
that the model hears what the microphone hears. An AudioWorklet (a ScriptProcessorNode in
browsers without one) collects the raw samples, mixed down to mono, at the AudioContext's rate.
When the learner presses Stop, or after `max_seconds`, the front end sends them to the kernel
as float32 little-endian bytes with the sample rate, in one message (3 s at 48 kHz is 576 KB).

The kernel side decodes and checks them and calls each `on_recording` callback with
``(waveform, sample_rate)`` inside the widget's `output` area, which `display(mic)` shows under
the button. `Microphone.simulate` sends a recording through the same path without a browser:
lessons run under nbval and the unit tests use it.

Notebook: 06_audio_classification (your own recordings) and 08_speech_recognition.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import anywidget
import ipywidgets
import numpy as np
import traitlets

from ..core import check_sample_rate, is_static

__all__ = ["MAX_SECONDS", "Microphone"]

MAX_SECONDS = 30.0  # the longest recording a Microphone accepts (30 s at 48 kHz is 5.8 MB)

# What the front end shows and sets as `error`; tests look for these exact texts in _ESM.
ERRORS = {
    "missing": "no microphone found",
    "denied": "permission denied: allow the microphone in the browser",
    "insecure": "this page is not in a secure context (https or localhost)",
}

_WORKLET = """
registerProcessor("course-utils-capture", class extends AudioWorkletProcessor {
  process(inputs) {
    const channels = inputs[0];  // one channel: the node mixes its input down to mono
    if (channels.length > 0) this.port.postMessage(channels[0].slice());
    return true;
  }
});
"""

_ESM = (
    """
const WORKLET = `"""
    + _WORKLET
    + """`;
const ERRORS = """
    + json.dumps(ERRORS)
    + """;
// Raw sound: what the microphone hears, not what a video call would send.
const CONSTRAINTS = {echoCancellation: false, noiseSuppression: false, autoGainControl: false};

function describe(error) {
  if (["NotAllowedError", "SecurityError", "PermissionDeniedError"].includes(error.name)) {
    return ERRORS.denied;
  }
  if (["NotFoundError", "DevicesNotFoundError", "OverconstrainedError"].includes(error.name)) {
    return ERRORS.missing;
  }
  return `the microphone could not start: ${error.name}: ${error.message}`;
}

// Opens the microphone; calls onChunk(Float32Array) with each block of mono samples.
async function openCapture(onChunk) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    throw new Error(window.isSecureContext
      ? "this browser cannot record sound (no navigator.mediaDevices)" : ERRORS.insecure);
  }
  let stream;
  try {
    stream = await navigator.mediaDevices.getUserMedia({audio: CONSTRAINTS});
  } catch (error) {
    throw new Error(describe(error));
  }
  const context = new AudioContext();
  await context.resume();
  const source = context.createMediaStreamSource(stream);
  const silent = context.createGain();  // nodes only run when they reach the destination
  silent.gain.value = 0;
  silent.connect(context.destination);
  let node;
  try {
    const url = URL.createObjectURL(new Blob([WORKLET], {type: "text/javascript"}));
    try { await context.audioWorklet.addModule(url); } finally { URL.revokeObjectURL(url); }
    node = new AudioWorkletNode(context, "course-utils-capture",
      {channelCount: 1, channelCountMode: "explicit", numberOfOutputs: 1});
    node.port.onmessage = (event) => onChunk(event.data);
  } catch (error) {  // no AudioWorklet here: the older ScriptProcessorNode also mixes to mono
    node = context.createScriptProcessor(4096, 1, 1);
    node.onaudioprocess = (event) => onChunk(event.inputBuffer.getChannelData(0).slice());
  }
  source.connect(node);
  node.connect(silent);
  const close = async () => {
    source.disconnect();
    node.disconnect();
    stream.getTracks().forEach((track) => track.stop());
    await context.close();
  };
  return {sampleRate: context.sampleRate, close};
}

// The first `length` samples of `chunks` as float32 little-endian bytes.
function encode(chunks, length) {
  const view = new DataView(new ArrayBuffer(4 * length));
  let i = 0;
  for (const chunk of chunks) {
    for (let j = 0; j < chunk.length && i < length; j++, i++) {
      view.setFloat32(4 * i, chunk[j], true);
    }
  }
  return view;
}

function render({model, el}) {
  const button = document.createElement("button");
  const status = document.createElement("div");
  button.className = "course-mic-button";
  status.className = "course-mic-status";
  el.classList.add("course-mic");
  el.append(button, status);
  let capture = null, chunks = [], collected = 0, limit = 0, timer = null;

  const show = (text, isError = false) => {
    status.textContent = text;
    status.classList.toggle("course-mic-error", isError);
  };
  const prompt = () => show(`click Record and speak (up to ${model.get("max_seconds")} s)`);
  const idle = () => {  // shows the error, if any, else keeps the last message
    button.textContent = "\u25cf Record";
    if (model.get("error")) return show(model.get("error"), true);
    if (!model.get("recordings") || status.classList.contains("course-mic-error")) prompt();
  };

  const stop = async (send) => {
    if (!capture) return;
    const {sampleRate, close} = capture;
    capture = null;
    clearTimeout(timer);
    await close();
    if (!send) return;
    const length = Math.min(collected, limit);
    if (length === 0) {
      model.set("error", "no sound arrived from the microphone");
      model.save_changes();
      return idle();
    }
    model.set("sample_rate", sampleRate);
    model.set("_pcm", encode(chunks, length));
    model.set("error", "");
    model.set("recordings", model.get("recordings") + 1);
    model.save_changes();
    show(`sent ${(length / sampleRate).toFixed(2)} s at ${sampleRate} Hz to Python`);
    idle();
  };

  const start = async () => {
    model.set("error", "");
    model.save_changes();
    chunks = [];
    collected = 0;
    show("asking for the microphone\u2026");
    try {
      capture = await openCapture((chunk) => {
        if (!capture) return;
        chunks.push(chunk);
        collected += chunk.length;
        if (collected >= limit) stop(true);
      });
    } catch (error) {
      model.set("error", error.message);
      model.save_changes();
      return idle();
    }
    const seconds = model.get("max_seconds");
    limit = Math.round(seconds * capture.sampleRate);
    timer = setTimeout(() => stop(true), 1000 * seconds + 1000);  // if the blocks stop coming
    button.textContent = "\u25a0 Stop";
    show(`recording at ${capture.sampleRate} Hz (up to ${seconds} s)\u2026`);
  };

  button.addEventListener("click", () => (capture ? stop(true) : start()));
  model.on("change:error", idle);
  model.on("change:max_seconds", () => capture || model.get("error") || prompt());
  idle();
  return () => stop(false);
}

export default {render};
"""
)

_CSS = """
.course-mic { display: flex; align-items: center; gap: 0.8em; padding: 0.3em 0; }
.course-mic-button { min-width: 7em; padding: 0.3em 0.8em; cursor: pointer; }
.course-mic-status { font-family: var(--jp-ui-font-family, sans-serif); }
.course-mic-error { color: var(--jp-error-color1, #d32f2f); }
"""


def _bytes_from_json(value, widget) -> bytes:
    """The front end's DataView arrives as a memoryview; the trait holds bytes."""
    return b"" if value is None else bytes(value)


class Microphone(anywidget.AnyWidget):
    """A Record / Stop button that records the browser's microphone into the kernel.

    Display it with ``display(mic)`` (or as a cell's last expression): the button, a status
    line and, under them, `output`, where the callbacks' prints and plots appear. A recording
    stops on Stop or after `max_seconds`. Without a browser (nbval, plain Python) the widget
    is built and displayed all the same; `simulate` then stands in for the learner.

    Args:
        max_seconds: longest recording in seconds, above 0 and at most 30 (default 3).
        on_recording: called as ``on_recording(waveform, sample_rate)`` for each recording
            (default None: none yet; add some with `on_recording`).

    Attributes:
        sample_rate: the rate of the last recording in Hz (the browser's AudioContext rate,
            often 44100 or 48000); 0 before the first one.
        recordings: how many recordings have arrived.
        error: what went wrong last, as the browser shows it ("" when all is well), e.g.
            "no microphone found" or "permission denied: allow the microphone in the browser".
        output: an `ipywidgets.Output` holding what the callbacks print or plot.

    Example:
        >>> mic = Microphone(max_seconds=2.0)
        >>> heard = []
        >>> mic.on_recording(lambda waveform, sample_rate: heard.append(waveform.shape))
        >>> mic.simulate(np.zeros(8000, dtype=np.float32), 16000)
        >>> heard, mic.sample_rate
        ([(8000,)], 16000)

    Notebook: 06_audio_classification, 08_speech_recognition.
    """

    _esm = _ESM
    _css = _CSS
    max_seconds = traitlets.Float(3.0).tag(sync=True)
    sample_rate = traitlets.Int(0).tag(sync=True)
    recordings = traitlets.Int(0).tag(sync=True)
    error = traitlets.Unicode("").tag(sync=True)
    # (time,) float32 little-endian bytes. Not echoed back: the browser already has them.
    _pcm = traitlets.Bytes(b"").tag(sync=True, from_json=_bytes_from_json, echo_update=False)

    def __init__(
        self,
        max_seconds: float = 3.0,
        on_recording: Callable[[np.ndarray, int], object] | None = None,
    ) -> None:
        super().__init__(max_seconds=max_seconds)
        self.output = ipywidgets.Output()
        self._waveform: np.ndarray | None = None
        self._callbacks: list[Callable[[np.ndarray, int], object]] = []
        self._view = ipywidgets.VBox([self, self.output])
        if on_recording is not None:
            self.on_recording(on_recording)

    @traitlets.validate("max_seconds")
    def _check_max_seconds(self, proposal) -> float:
        seconds = proposal["value"]
        if not 0 < seconds <= MAX_SECONDS:  # False for NaN too
            raise ValueError(
                f"max_seconds must be above 0 and at most {MAX_SECONDS:g} s, got {seconds!r}"
            )
        return seconds

    @property
    def waveform(self) -> np.ndarray | None:
        """The last good recording, float32 (time,) in [-1, 1]; None before the first one."""
        return self._waveform

    def on_recording(
        self, callback: Callable[[np.ndarray, int], object], remove: bool = False
    ) -> None:
        """Call ``callback(waveform, sample_rate)`` on each recording (or stop, `remove`).

        Args:
            callback: gets the float32 (time,) waveform and its rate in Hz. It runs in the
                kernel inside `output`: what it prints or plots appears under the widget.
            remove: unregister `callback` instead (default False).
        """
        if not callable(callback):
            raise TypeError(f"expected a function of (waveform, sample_rate), got {callback!r}")
        if remove:
            self._callbacks.remove(callback)
        else:
            self._callbacks.append(callback)

    def simulate(self, waveform, sample_rate: int) -> None:
        """Send `waveform` as if the browser had recorded it: float32 bytes, then the traits.

        Args:
            waveform: mono audio, a (time,) numpy array or tensor (cast to float32).
            sample_rate: its rate in Hz.
        """
        samples = np.asarray(waveform)
        if samples.ndim != 1:
            raise ValueError(f"expected a mono waveform shaped (time,), got {samples.shape}")
        payload = samples.astype("<f4").tobytes()
        self._receive(payload, sample_rate)

    def _receive(self, payload: bytes, sample_rate: int) -> None:
        """Set the traits together, as one front-end message does (see `_ESM`'s `stop`)."""
        with self.hold_trait_notifications():
            self.sample_rate = sample_rate
            self._pcm = payload
            self.error = ""
            self.recordings += 1

    @traitlets.observe("recordings")
    def _on_recordings(self, change) -> None:
        """A recording arrived (a counter, so that two equal recordings both count)."""
        try:
            waveform = _decode(self._pcm)
            check_sample_rate(self.sample_rate)
        except ValueError as error:
            self._waveform = None
            self.error = f"the recording did not arrive intact: {error}"
            return
        self._waveform = waveform
        with self.output:
            for callback in list(self._callbacks):
                callback(waveform, self.sample_rate)

    def _repr_mimebundle_(self, **kwargs):
        """Display the button with `output` under it (what ``display(mic)`` shows); in a
        static page (`make book`), where nothing can record, a line saying what stands here."""
        if is_static():
            note = "In JupyterLab, a Record button stands here: say a word, see what it hears."
            return {"text/plain": note, "text/markdown": f"*{note}*"}
        return self._view._repr_mimebundle_(**kwargs)


def _decode(payload: bytes) -> np.ndarray:
    """float32 little-endian bytes -> a writable float32 (time,) array, or ValueError."""
    if len(payload) == 0:
        raise ValueError("no samples (an empty recording)")
    if len(payload) % 4:
        raise ValueError(f"{len(payload)} bytes is not a whole number of float32 samples")
    waveform = np.frombuffer(payload, dtype="<f4").astype(np.float32)
    if not np.isfinite(waveform).all():
        raise ValueError("expected finite samples, got NaN or infinity")
    return waveform
