"""``python -m course_utils.audiotext``: rebuild lesson 13's shipped models."""

from .recipe import main

if __name__ == "__main__":
    main()
