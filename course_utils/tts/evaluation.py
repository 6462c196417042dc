"""How good a synthesiser is: its alignments, and lesson 08's recogniser as the judge (lesson 09).

`score_synthesizer` synthesises sentences free-running (nothing teacher-forced) and measures
the alignments (focus rate, jumps, stop token) and the speech (the recogniser's CER).

The recogniser learned digit strings and command sentences, so it judges only texts of that
grammar (`course_utils.data.in_grammar`); a phrase of random words would measure its
spelling, not the synthesiser. It was trained on clips with silence around the speech,
while the synthesiser speaks from the first frame to the last: every clip is padded with
`PAD_SECONDS` of silence on each side before recognition (without it, even the true audio
is misheard: CER 0.33 instead of 0.00, measured on the test sentences).

(`recognizer_cer` and `PAD_SECONDS` live with the recogniser, `course_utils.asr`; lesson 10
uses them too.)

Three CERs on the same sentences separate the losses: the voice itself (the corpus audio),
the vocoder (Griffin-Lim of the true mels), and the synthesiser (Griffin-Lim of its mels).

Notebook: 09_speech_synthesis.
"""

from __future__ import annotations

import torch

from ..asr import PAD_SECONDS, Recognizer, recognizer_cer
from ..data import in_grammar
from .alignment import alignment_jumps, focus_rate
from .data import TTSDataConfig, TTSDataset, speak
from .inference import synthesize
from .model import Tacotron
from .vocoder import mel_to_waveform

__all__ = ["PAD_SECONDS", "judged", "recognizer_cer", "score_synthesizer"]

def judged(texts: list[str]) -> list[int]:
    """Indices of the texts the recogniser can judge (digit strings and command sentences).

    Example:
        >>> judged(["one two", "yellow rocket", "stop the radio"])
        [0, 2]
    """
    return [i for i, text in enumerate(texts) if in_grammar(text)]


def score_synthesizer(
    model: Tacotron,
    data: TTSDataset,
    recognizer: Recognizer | None = None,
    data_config: TTSDataConfig | None = None,
    seed: int = 0,
) -> dict:
    """Synthesise every sentence of `data` free-running and measure it.

    Args:
        model: a trained `Tacotron`.
        data: sentences never seen in training, with their true mels (e.g. the test split).
        recognizer: the judge; None skips the CERs.
        data_config: how `data` was made (its voice says the sentences for "cer_real").
        seed: torch's seed for the prenet dropout (synthesis is random otherwise).

    Returns:
        {"sentences", "focus" (mean free-running focus rate), "backward" and "forward"
        (jumps, summed), "stopped" (share ended by the stop token)}, and with a recognizer,
        over the judged sentences: "judged", "cer" (synthesised speech), "cer_griffin_lim"
        (Griffin-Lim of the true mels) and "cer_real" (the voice itself).
    """
    torch.manual_seed(seed)
    results = synthesize(model, data.texts)
    focus = [float(focus_rate(r.alignment)) for r in results]
    jumps = [alignment_jumps(r.alignment) for r in results]
    scores = {
        "sentences": len(results),
        "focus": sum(focus) / len(focus),
        "backward": sum(int(b) for b, _ in jumps),
        "forward": sum(int(f) for _, f in jumps),
        "stopped": sum(r.stopped for r in results) / len(results),
    }
    if recognizer is None:
        return scores
    chosen = judged(data.texts)
    if not chosen:
        raise ValueError("none of the sentences is in the recogniser's grammar: nothing to judge")
    texts = [data.texts[i] for i in chosen]
    synthesised = [mel_to_waveform(results[i].mel) for i in chosen]
    vocoded = [mel_to_waveform(data.mels[i]) for i in chosen]
    scores["judged"] = len(texts)
    scores["cer"] = recognizer_cer(recognizer, texts, synthesised)[0]
    scores["cer_griffin_lim"] = recognizer_cer(recognizer, texts, vocoded)[0]
    scores["cer_real"] = recognizer_cer(recognizer, texts, speak(texts, data_config))[0]
    return scores
