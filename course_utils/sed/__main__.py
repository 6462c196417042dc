"""``python -m course_utils.sed``: runs `recipe.main` (see `course_utils.sed.recipe`).

Running the package rather than its `recipe` module avoids Python's runpy warning
about a module that the package has already imported.

Notebook: 07_sound_event_detection.
"""

from .recipe import main

if __name__ == "__main__":
    main()
