"""The course's own data: the eSpeak voice, the speech corpus, scenes and recordings.

`espeak` drives eSpeak NG through ctypes; `texts` holds what the corpus says;
`corpus_config` what to generate and the split of voices; `corpus` builds the speech corpus
(words, digit strings, command sentences; cached); `datasets` wraps it for torch; `events`
holds timed events and their frame labels; `sounds` the synthetic events; `event_task` and
`scenes` build lessons 02 and 07's tasks; `recordings` reads folders of real recordings.

Notebook: 05_audio_features_and_data.
"""

from . import (
    corpus,
    corpus_config,
    datasets,
    espeak,
    event_task,
    events,
    recordings,
    scenes,
    sounds,
    texts,
)
from .corpus import (
    Corpus,
    CorpusSplit,
    build_corpus,
    cache_path,
    trim_silence,
)
from .corpus_config import (
    SPLITS,
    CorpusConfig,
    digits_config,
    sentences_config,
    voice_splits,
    words_config,
)
from .datasets import (
    SpeechDataset,
    collate_padded,
)
from .espeak import (
    ACCENTS,
    Voice,
    list_accents,
    list_variants,
    native_sample_rate,
    synthesize,
    synthesize_batch,
)
from .event_task import (
    EVENT_WORDS,
    EventClips,
    EventTaskConfig,
    build_event_task,
    event_attention_mass,
    event_frame_masks,
    event_task_config,
    mix_event,
)
from .events import (
    Event,
    events_to_frames,
)
from .recordings import (
    FSDD_SHA256,
    FSDD_URL,
    RECORDING_PATTERN,
    Recording,
    RecordingFolder,
    fetch_fsdd,
    load_recordings,
    recordings_folder,
)
from .scenes import (
    SCENE_CLASSES,
    SceneConfig,
    Scenes,
    build_scenes,
    scene_config,
)
from .sounds import (
    EVENT_SECONDS,
    FADE_SECONDS,
    fade,
    synth_event,
)
from .texts import (
    COMMANDS,
    DEVICES,
    DIGITS,
    DIRECTIONS,
    ROOMS,
    UNKNOWN_LABEL,
    UNKNOWN_WORDS,
    command_sentences,
    digit_strings,
    in_grammar,
    word_texts,
)

__all__ = [
    "corpus",
    "corpus_config",
    "datasets",
    "espeak",
    "event_task",
    "events",
    "recordings",
    "scenes",
    "sounds",
    "texts",
    "ACCENTS",
    "build_corpus",
    "build_event_task",
    "build_scenes",
    "cache_path",
    "collate_padded",
    "command_sentences",
    "COMMANDS",
    "Corpus",
    "CorpusConfig",
    "CorpusSplit",
    "DEVICES",
    "DIRECTIONS",
    "digit_strings",
    "in_grammar",
    "DIGITS",
    "digits_config",
    "Event",
    "event_attention_mass",
    "event_frame_masks",
    "EVENT_SECONDS",
    "event_task_config",
    "EVENT_WORDS",
    "EventClips",
    "events_to_frames",
    "EventTaskConfig",
    "fade",
    "FADE_SECONDS",
    "list_accents",
    "list_variants",
    "load_recordings",
    "fetch_fsdd",
    "FSDD_SHA256",
    "FSDD_URL",
    "recordings_folder",
    "mix_event",
    "native_sample_rate",
    "Recording",
    "ROOMS",
    "RECORDING_PATTERN",
    "RecordingFolder",
    "SCENE_CLASSES",
    "scene_config",
    "SceneConfig",
    "Scenes",
    "sentences_config",
    "SpeechDataset",
    "SPLITS",
    "synth_event",
    "synthesize",
    "synthesize_batch",
    "trim_silence",
    "UNKNOWN_LABEL",
    "UNKNOWN_WORDS",
    "Voice",
    "voice_splits",
    "word_texts",
    "words_config",
]
