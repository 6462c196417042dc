"""``python -m course_utils.tts``: runs `recipe.main` (see `course_utils.tts.recipe`).

Running the package rather than its `recipe` module avoids Python's runpy warning
about a module that the package has already imported.

Notebook: 09_speech_synthesis.
"""

from .recipe import main

if __name__ == "__main__":
    main()
