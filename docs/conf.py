"""Sphinx configuration of kron's documentation site (`make docs`).

The pages are Markdown (MyST), written so that they read on a code host too: no
directives outside index.md, links between pages as relative `.md` paths with GitHub-style
heading anchors, which MyST resolves and checks (a missing page or anchor is a warning,
and `make docs` turns warnings into errors). Nothing here reaches the network.
"""

import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

project = "kron"
author = "the kron authors"
copyright = "the kron authors"  # noqa: A001 (Sphinx's name)
release = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"][
    "version"
]
version = release

extensions = ["myst_parser"]
source_suffix = {".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build"]

# Anchors for headings down to level 4, slugged as GitHub does, so that `page.md#anchor`
# links work both in the site and on the code host.
myst_heading_anchors = 4

# Command lines are quoted in running text too: keep `--flag` and 'quotes' as written.
smartquotes = False

html_theme = "furo"
html_title = f"kron {release}"
html_copy_source = False
html_show_sourcelink = False
html_show_sphinx = False
