"""The exercise bank: one module per lesson; importing it registers every exercise.

Notebook: 00_welcome_and_setup (section "Exercises that check themselves").
"""

from . import (
    lesson_00,
    lesson_01,
    lesson_02,
    lesson_03,
    lesson_04,
    lesson_05,
    lesson_06,
    lesson_07,
    lesson_08,
    lesson_09,
    lesson_10,
    lesson_11,
    lesson_12,
    lesson_13,
)

__all__ = [
    "lesson_00",
    "lesson_01",
    "lesson_02",
    "lesson_03",
    "lesson_04",
    "lesson_05",
    "lesson_06",
    "lesson_07",
    "lesson_08",
    "lesson_09",
    "lesson_10",
    "lesson_11",
    "lesson_12",
    "lesson_13",
]
