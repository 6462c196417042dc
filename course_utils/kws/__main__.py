"""``python -m course_utils.kws``: runs `recipe.main` (see `course_utils.kws.recipe`).

Running the package rather than its `recipe` module avoids Python's runpy warning
about a module that the package has already imported.

Notebook: 06_audio_classification.
"""

from .recipe import main

if __name__ == "__main__":
    main()
