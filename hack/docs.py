"""Build the documentation site (`make docs`): docs/ -> build/docs/, warnings as errors.

1. Sphinx (MyST Markdown, Furo theme) builds the HTML from a fresh environment (`-E`):
   an incremental build would not read again a page whose link broke because another
   page changed, nor report the warnings of a page it does not read again. Every warning
   fails the build (`-W`); `--keep-going` reports all of them first. A link to a page
   or a heading anchor that does not exist is a warning (myst.xref_missing), and so is a
   page missing from the navigation.
2. The README's links into the site (`docs/PAGE.md#anchor`) are checked against the
   built pages: the page must exist and have an element with that id. Sphinx does not
   read the README, which is the landing page on the code host.
3. The site must work offline: no page or stylesheet may load anything from another
   host (scripts, stylesheets, fonts, images, frames). Links to other sites are fine.

Exits 1 with one line per problem.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCE = ROOT / "docs"
OUTPUT = ROOT / "build" / "docs"
README = ROOT / "README.md"

README_LINK = re.compile(r"\]\((docs/[^)#\s]*)(?:#([^)\s]+))?\)")
README_PICTURE = re.compile(r"!\[[^\]]*\]\((docs/[^)\s]*)\)")
# A resource the browser fetches by itself, from another host.
REMOTE_LOAD = re.compile(
    r"<(?:script|img|iframe|source|video|audio|embed)\b[^>]*\bsrc=[\"']?(?:https?:)?//"
    r"|<link\b(?=[^>]*\brel=[\"']?(?:stylesheet|preload|prefetch|icon|modulepreload))"
    r"[^>]*\bhref=[\"']?(?:https?:)?//"
    r"|@import\s+(?:url\()?[\"']?(?:https?:)?//"
    r"|url\([\"']?(?:https?:)?//",
    re.IGNORECASE,
)


def build() -> int:
    shutil.rmtree(OUTPUT, ignore_errors=True)  # no page left over from a removed source
    command = [sys.executable, "-m", "sphinx", "-E", "-W", "--keep-going", "-q", "-b", "html"]
    return subprocess.run([*command, str(SOURCE), str(OUTPUT)], check=False).returncode


def readme_problems() -> list[str]:
    problems = []
    for number, line in enumerate(README.read_text(encoding="utf-8").splitlines(), 1):
        pictures = {m.start(1) - 2 for m in README_PICTURE.finditer(line)}  # at "]("
        for match in README_LINK.finditer(line):
            target, anchor = match.group(1), match.group(2)
            if match.start() in pictures:  # shown from the repository: the file must exist
                if not (ROOT / target).is_file():
                    problems.append(f"README.md:{number}: {target}: no such picture")
                continue
            if not target.endswith(".md"):
                problems.append(f"README.md:{number}: {target}: link a page (.md) of the site")
                continue
            page = OUTPUT / Path(target).relative_to("docs").with_suffix(".html")
            if not page.is_file():
                problems.append(f"README.md:{number}: {target}: no such page in the site")
            elif anchor and f'id="{anchor}"' not in page.read_text(encoding="utf-8"):
                problems.append(f"README.md:{number}: {target}#{anchor}: no such anchor")
    return problems


def remote_loads() -> list[str]:
    problems = []
    for path in sorted(OUTPUT.rglob("*")):
        if path.suffix not in {".html", ".css", ".js"} or not path.is_file():
            continue
        for match in REMOTE_LOAD.finditer(path.read_text(encoding="utf-8", errors="replace")):
            problems.append(f"{path.relative_to(ROOT)}: loads from another host: {match.group(0)}")
    return problems


def main() -> int:
    if build() != 0:
        print("docs: the build had warnings (above); fix them", file=sys.stderr)
        return 1
    problems = readme_problems() + remote_loads()
    for problem in problems:
        print(f"docs: {problem}", file=sys.stderr)
    if problems:
        return 1
    pages = sum(1 for _ in OUTPUT.rglob("*.html"))
    print(f"docs: {pages} HTML files in {OUTPUT.relative_to(ROOT)}/ (open index.html)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
