"""``python -m course_utils.asr``: runs `recipe.main` (see `course_utils.asr.recipe`).

Running the package rather than its `recipe` module avoids Python's runpy warning
about a module that the package has already imported.

Notebook: 08_speech_recognition.
"""

from .recipe import main

if __name__ == "__main__":
    main()
