"""``python -m course_utils.codec``: runs `recipe.main` (see `course_utils.codec.recipe`).

Running the package rather than its `recipe` module avoids Python's runpy warning
about a module that the package has already imported.

Notebook: 10_neural_audio_compression.
"""

from .recipe import main

if __name__ == "__main__":
    main()
