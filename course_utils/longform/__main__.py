"""``python -m course_utils.longform``: rebuild lesson 12's keyword detectors."""

from .recipe import main

if __name__ == "__main__":
    main()
