"""`python -m bench [name ...] [--flags]`: run the benchmarks, print JSON figures, append RESULTS.md.

With no name, every benchmark runs at its full size. Flags after a name go to that
benchmark, e.g. `python -m bench relay --pairs 50 --seconds 5`; `python -m bench NAME --help`
lists them. `--no-record` leaves bench/RESULTS.md alone.
"""

import sys

from bench import harness

BENCHMARKS = ["matchmaking", "start", "relay", "moodrooms", "connections", "presence"]


def main(argv: list[str]) -> None:
    record = "--no-record" not in argv  # the smoke test checks correctness and records nothing
    argv = [arg for arg in argv if arg != "--no-record"]
    runs: list[tuple[str, list[str]]] = []
    for arg in argv:
        if arg in BENCHMARKS:
            runs.append((arg, []))
        elif runs:
            runs[-1][1].append(arg)
        else:
            raise SystemExit(f"unknown benchmark {arg!r}: choose from {', '.join(BENCHMARKS)}")
    runs = runs or [(name, []) for name in BENCHMARKS]
    harness.raise_fd_limit()
    harness.ensure_database()
    harness.note(f"settings changed for the run: {harness.BENCH_SETTINGS}")
    failed = []
    for name, args in runs:
        module = __import__(f"bench.{name}", fromlist=["main"])
        harness.note(f"running {name} {' '.join(args)}".rstrip())
        try:
            module.main(args)
        except Exception as exc:  # one broken benchmark must not cost the others' figures
            harness.emit(name, "bench_error", repr(exc)[:500])
            failed.append(name)
    if record and not any(a in {"-h", "--help"} for _, args in runs for a in args):
        harness.append_results(argv)
    if failed:
        raise SystemExit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main(sys.argv[1:])
