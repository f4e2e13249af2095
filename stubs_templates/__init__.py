"""Jinja2 templates holding every word the model reads about tools in Code Mode.

Stub files, the file listing, tool docs, meta-tool descriptions, result framing and error hints
all render from the files in this directory, so wording can be tuned without touching code. See
`README.md` here for the variables each template receives.
"""

from pathlib import Path

__all__ = ["TEMPLATES_DIR"]

TEMPLATES_DIR = Path(__file__).resolve().parent
"""The directory holding the `*.j2` templates."""
