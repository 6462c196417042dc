"""The exercise bank: one module per lesson; importing it registers every exercise.

Notebook: 00_welcome_and_setup (section "How exercises work").
"""

from . import lesson_01, lesson_02, lesson_03, lesson_04

__all__ = ["lesson_01", "lesson_02", "lesson_03", "lesson_04"]
