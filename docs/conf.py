"""Sphinx configuration of the glasscam documentation.

Build: ``sphinx-build -W --keep-going -b html docs docs/_build/html`` (tests/test_docs.py does it
with warnings as errors, and runs the examples with ``-b doctest``)."""

import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
sys.path.insert(0, str(DOCS / "_ext"))
sys.path.insert(0, str(ROOT / "src"))  # document this checkout's package, not another install

project = "glasscam"
author = "glasscam developers"
copyright = "glasscam developers, BSD-3-Clause"

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.mathjax",
    "sphinx.ext.doctest",
    "myst_parser",
    "glasscam_docstrings",  # docs/_ext: `|x|` in docstrings is an absolute value, not a substitution
    "glasscam_schema",  # docs/_ext: the configuration reference, generated from the schema
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]
templates_path = ["_templates"]

# Markdown pages: $…$ math, ::: fences, heading anchors for cross-page links
myst_enable_extensions = ["dollarmath", "colon_fence", "deflist"]
myst_heading_anchors = 3

# API reference: one page per module, generated from the docstrings at build time
autosummary_generate = True
autosummary_imported_members = False
autodoc_default_options = {"members": True, "show-inheritance": True, "member-order": "bysource"}
autodoc_typehints = "description"
autodoc_mock_imports = ["hoomd", "ovito"]
napoleon_numpy_docstring = True
napoleon_google_docstring = False
napoleon_use_rtype = False

# Examples (```{doctest} blocks) run with `-b doctest`; docstring `>>>` blocks are not tests
doctest_test_doctest_blocks = ""
doctest_global_setup = "import numpy as np"

# "--cores" stays two hyphens, quotes stay straight
smartquotes = False

html_theme = "alabaster"
html_title = "glasscam"
html_static_path = []

# a reference to a glasscam name that does not exist (renamed, moved) fails the -W build;
# references into other projects (numpy, torch, …) are not resolved without intersphinx
nitpicky = True
nitpick_ignore_regex = [(r"py:.*", r"(?!glasscam\.).*"), (r"py:.*", r".*\._\w+")]  # private names are not documented
