"""What the garbage collector cost each ``live serve`` of a ``fanout_bench.py`` run, from the
files of ``bench/fanout_gcprobe`` (see there), between two wall-clock times (the windows).

    .venv/bin/python bench/fanout_gc.py /tmp/gc --since 1764598000 --until 1764598300
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("folder", type=Path)
    parser.add_argument("--since", type=float, default=0.0, help="wall-clock time: count collections after it")
    parser.add_argument("--until", type=float, default=float("inf"))
    arguments = parser.parse_args()
    print("| server (checkout) | collections | full (gen 2) | longest full | all pauses | longest young |")
    print("|---|---|---|---|---|---|")
    for path in sorted(arguments.folder.glob("gc-*.jsonl")):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        if not lines:
            continue
        cwd = lines[0][0]
        inside = [line[1:] for line in lines if arguments.since <= line[1] <= arguments.until]
        full = [c[2] for c in inside if c[1] == 2]
        young = [c[2] for c in inside if c[1] < 2]
        print(
            f"| {path.stem} ({cwd}) | {len(inside)} | {len(full)} | {max(full, default=0) * 1e3:.0f} ms "
            f"| {sum(c[2] for c in inside) * 1e3:.0f} ms | {max(young, default=0) * 1e3:.0f} ms |"
        )


if __name__ == "__main__":
    main()
