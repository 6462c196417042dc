"""``python -m course_utils.restoration``: rebuild lesson 11's generators."""

from .recipe import main

if __name__ == "__main__":
    main()
