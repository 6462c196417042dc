"""Profiles: one switch that sizes every lesson, for learners (``full``) and for CI (``ci``).

A lesson never writes ``if CI: ...``. It reads its sizes from the active profile:

    profile = get_profile()          # COURSE_PROFILE=ci selects the small one
    corpus = build_corpus(words_config(profile))

Both profiles run the same code and assert the same claims; only the thresholds that
depend on size (how far above chance a model must be) differ.

`Profile` holds the sizes of the data and of lessons 00-05. Each application lesson keeps its
own sizes and thresholds next to its recipe, as a small frozen dataclass with a ``full`` and
a ``ci`` value, and registers it here (`register_section`); the active profile then gives it
as an attribute: ``get_profile().kws.min_accuracy``. One switch still sizes everything.

Notebook: 00_welcome_and_setup (section "Profiles").
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from typing import Any

__all__ = ["Profile", "PROFILES", "get_profile", "PROFILE_ENV", "register_section"]

PROFILE_ENV = "COURSE_PROFILE"


@dataclass(frozen=True)
class Profile:
    """Sizes shared by the lessons; see the module docstring."""

    name: str  # "full" (learners, reported results) or "ci" (continuous integration)
    train_clips_per_word: int  # isolated-word corpus: clips of each word in the train split
    eval_clips_per_word: int  # ... in the validation split and in the test split, each
    sentences_per_split: int  # digit strings and command sentences per split (train; eval /4)
    epochs: int  # default number of training epochs for the small lesson models
    demo_voices: int  # voices played in lesson 00's tour
    demo_clips_per_word: int  # lesson 00's small words corpus: clips per word in each split
    sqrt_d_trials: int  # lesson 01: random queries per dimension in the "why sqrt(d)" test
    event_clips_per_class: int  # lessons 02-03 "where is the event": training clips per class
    event_epochs: int  # lessons 02-03: training epochs of each attention-pooling model
    heads_clips_per_word: int  # lesson 04: training clips per word for the encoder block
    heads_epochs: int  # lesson 04: training epochs
    sed_train_scenes: int  # lesson 07: 10-s training scenes
    sed_eval_scenes: int  # lesson 07: scenes in the validation split and in the test split, each
    features_voices: int  # lesson 05: voices (each with its accent) saying one word in the tour

    @property
    def is_ci(self) -> bool:
        return self.name == "ci"

    def _repr_markdown_(self) -> str:
        """The profile in Jupyter (and the book) as two tables: the shared sizes, then each
        lesson's section with its settings, instead of one 700-character line."""
        lines = [f"**Profile `{self.name}`**", "", "| size | value |", "|---|---|"]
        lines += [f"| `{f.name}` | {getattr(self, f.name)} |" for f in fields(self)[1:]]
        lines += ["", "| section | settings |", "|---|---|"]
        for section in sorted(_SECTIONS):
            values = _SECTIONS[section][self.name]
            settings = ", ".join(f"{f.name}={getattr(values, f.name)!r}" for f in fields(values))
            lines.append(f"| `profile.{section}` | {settings} |")
        return "\n".join(lines)

    def __getattr__(self, name: str) -> Any:
        """A registered section (``profile.kws``), in this profile's version."""
        if name.startswith("__") or name not in _SECTIONS:
            raise AttributeError(
                f"Profile has no field or section {name!r}; sections: {sorted(_SECTIONS)}"
            )
        return _SECTIONS[name][self.name]


# Application folders register their sections when imported (`import course_utils` imports
# them all): the one piece of module state here, written once per section.
_SECTIONS: dict[str, dict[str, Any]] = {}


def register_section(name: str, full: Any, ci: Any) -> None:
    """Make `full` and `ci` the ``profile.<name>`` of the two profiles.

    Args:
        name: the attribute, e.g. "kws"; it must not be a field of `Profile`.
        full, ci: the section's values in each profile (frozen dataclasses of one type).

    Example:
        >>> from dataclasses import dataclass
        >>> @dataclass(frozen=True)
        ... class Demo:
        ...     epochs: int
        >>> register_section("demo", full=Demo(20), ci=Demo(2))
        >>> get_profile("ci").demo.epochs
        2
    """
    if name in Profile.__dataclass_fields__:
        raise ValueError(f"{name!r} is a field of Profile, not a free section name")
    if type(full) is not type(ci):
        raise TypeError(f"full and ci must be of one type, got {type(full)} and {type(ci)}")
    _SECTIONS[name] = {"full": full, "ci": ci}


PROFILES = {
    "full": Profile(
        name="full",
        train_clips_per_word=200,
        eval_clips_per_word=40,
        sentences_per_split=2000,
        epochs=20,
        demo_voices=6,
        demo_clips_per_word=4,
        sqrt_d_trials=1000,
        event_clips_per_class=700,
        event_epochs=12,
        heads_clips_per_word=400,
        heads_epochs=6,
        sed_train_scenes=800,
        sed_eval_scenes=150,
        features_voices=6,
    ),
    "ci": Profile(
        name="ci",
        train_clips_per_word=24,
        eval_clips_per_word=8,
        sentences_per_split=200,
        epochs=4,
        demo_voices=3,
        demo_clips_per_word=2,
        sqrt_d_trials=120,
        event_clips_per_class=150,
        event_epochs=8,
        heads_clips_per_word=100,
        heads_epochs=4,
        sed_train_scenes=160,
        sed_eval_scenes=40,
        features_voices=3,
    ),
}


def get_profile(name: str | None = None) -> Profile:
    """Return the profile named `name`, else ``$COURSE_PROFILE``, else ``full``.

    Example:
        >>> get_profile("ci").train_clips_per_word < get_profile("full").train_clips_per_word
        True
    """
    name = (name or os.environ.get(PROFILE_ENV) or "full").strip().lower()
    if name not in PROFILES:
        raise ValueError(
            f"unknown profile {name!r} (from {PROFILE_ENV}); expected one of {list(PROFILES)}"
        )
    return PROFILES[name]
