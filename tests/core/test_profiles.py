"""A profile in Jupyter: its sizes and every lesson's section, as tables."""

import course_utils  # noqa: F401  (registers every lesson's section)
from course_utils.core.profiles import _SECTIONS, get_profile


def test_a_profile_shows_as_tables_of_its_sizes_and_sections():
    shown = get_profile("ci")._repr_markdown_()
    assert shown.startswith("**Profile `ci`**")
    assert "| `train_clips_per_word` | 24 |" in shown
    for section in _SECTIONS:
        assert f"| `profile.{section}` |" in shown
    assert "min_accuracy=0.8" in shown  # the CI profile's own values, not the full ones
