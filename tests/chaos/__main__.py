"""``python -m chaos`` (``make chaos``): run a scenario, print its table, exit 1 if an invariant broke.

Usage: ``python -m chaos [--scenario full|short] [--seed N] [--keep]``; PYTHONPATH must hold ``tests``
(the Makefile sets it). The run's folder (Redis AOF, side-effect logs) is removed unless ``--keep``.
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
from pathlib import Path

from chaos.runner import run
from chaos.scenario import SCENARIOS


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m chaos", description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", choices=sorted(SCENARIOS), default="full")
    parser.add_argument("--seed", type=int, default=None, help="replays a run (default: the scenario's)")
    parser.add_argument("--keep", action="store_true", help="keep the run's folder and print its path")
    args = parser.parse_args()
    scenario = SCENARIOS[args.scenario]
    if args.seed is not None:
        scenario = scenario.with_seed(args.seed)
    folder = Path(tempfile.mkdtemp(prefix="chaos-"))
    try:
        report = asyncio.run(run(scenario, folder))
    finally:
        if args.keep:
            print(f"run folder: {folder}")
        else:
            shutil.rmtree(folder, ignore_errors=True)
    print(report.table())
    sys.exit(0 if report.passed else 1)


if __name__ == "__main__":
    main()
