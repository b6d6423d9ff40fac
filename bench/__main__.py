"""Run the project's benchmarks and print one JSON object keyed by benchmark name."""

from __future__ import annotations

import argparse
import importlib
import inspect
import json
import pkgutil
import sys
import traceback
from pathlib import Path

from bench import machine


def discover() -> dict:
    found = {}
    for info in pkgutil.iter_modules([str(Path(__file__).parent)]):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"bench.{info.name}")
        for name, fn in getattr(module, "BENCHMARKS", {}).items():
            if name in found:
                raise RuntimeError(f"benchmark {name!r} is defined twice")
            found[name] = fn
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("names", nargs="*", help="benchmarks to run (default: all)")
    parser.add_argument("--json", action="store_true", help="print JSON (the only output format)")
    parser.add_argument("--quick", action="store_true", help="small sizes, for a smoke run")
    parser.add_argument("--list", action="store_true", help="list the benchmarks and exit")
    parser.add_argument("--seeds", type=int, default=None, help="seeds, for the benchmarks that take them")
    parser.add_argument("--db", default=None,
                        help="an existing database (DATABASE_URL, or a var directory), for the benchmarks that "
                             "take one (pages); default: they build their own")
    args = parser.parse_args(argv)
    available = discover()
    if args.list:
        print("\n".join(sorted(available)))
        return 0
    unknown = [n for n in args.names if n not in available]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; available: {', '.join(sorted(available))}",
              file=sys.stderr)
        return 2
    results: dict = {"_machine": machine()}
    failed = False
    for name in args.names or sorted(available):
        try:
            kwargs = {"quick": args.quick}
            if args.seeds is not None and "seeds" in inspect.signature(available[name]).parameters:
                kwargs["seeds"] = args.seeds
            if args.db is not None and "db" in inspect.signature(available[name]).parameters:
                kwargs["db"] = args.db
            results[name] = available[name](**kwargs)
        except Exception as error:  # noqa: BLE001 - a failing benchmark is reported, the rest still run
            failed = True
            results[name] = {"error": f"{type(error).__name__}: {error}", "traceback": traceback.format_exc()}
    print(json.dumps(results, indent=2, sort_keys=True, default=float))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
