"""Sum py-spy's collapsed stacks (`--format raw`) by function: where kron spends CPU.

    python -m bench.pyspy_top .bench/pyspy-kron-steady.txt [--top 40] [--match TEXT]

Prints the functions with the most samples on the stack (inclusive) and at its top
(self), as a share of all samples (idle samples are excluded by py-spy unless --idle).
"""

from __future__ import annotations

import argparse
from collections import Counter
from pathlib import Path


def load(path: Path) -> list[tuple[list[str], int]]:
    stacks = []
    for line in path.read_text().splitlines():
        frames, _, count = line.rpartition(" ")
        if frames and count.isdigit():
            stacks.append((frames.split(";"), int(count)))
    return stacks


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", type=Path)
    parser.add_argument("--top", type=int, default=40)
    parser.add_argument("--match", default="", help="only stacks with a frame containing this")
    args = parser.parse_args()
    stacks = [
        (f, n) for f, n in load(args.file) if not args.match or any(args.match in x for x in f)
    ]
    total = sum(n for _, n in stacks) or 1
    inclusive: Counter[str] = Counter()
    own: Counter[str] = Counter()
    for frames, n in stacks:
        for frame in set(frames):
            inclusive[frame] += n
        own[frames[-1]] += n
    print(f"{total} samples")
    for title, counter in (("inclusive", inclusive), ("self", own)):
        print(f"-- {title}")
        for frame, n in counter.most_common(args.top):
            print(f"{100 * n / total:5.1f}%  {frame}")


if __name__ == "__main__":
    main()
