"""A probe for ``fanout_bench.py``: every garbage collection of each ``live serve`` it starts, timed.

    PYTHONPATH=bench/fanout_gcprobe LIVE_GC_PROBE_OUT=/tmp/gc .venv/bin/python bench/fanout_bench.py ...
    .venv/bin/python bench/fanout_gc.py /tmp/gc

Python imports ``sitecustomize`` at start-up from the path, so every process the bench starts
loads this; only ``live serve`` processes (the command line says so) install the callback. Each
appends (every 5 s, and at exit) to one file a JSON line per collection: its working directory
(which checkout), the wall-clock time, the generation, the seconds it stopped the process and
what it collected.
"""

import sys

if "serve" in sys.orig_argv and "live" in sys.orig_argv:
    import atexit
    import gc
    import json
    import os
    import time

    collections: list[list[float]] = []
    started = [0.0]

    def probe(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            collections.append([time.time(), info["generation"], time.perf_counter() - started[0], info["collected"]])

    gc.callbacks.append(probe)

    def write() -> None:  # the collections since the last write, one JSON line each
        folder = os.environ.get("LIVE_GC_PROBE_OUT", "/tmp")
        taken = collections[:]
        del collections[: len(taken)]
        with open(os.path.join(folder, f"gc-{os.getpid()}.jsonl"), "a") as out:
            out.writelines(json.dumps([os.getcwd(), *collection]) + "\n" for collection in taken)

    atexit.register(write)

    def keep_writing() -> None:  # the bench may kill a server that takes long to stop
        while True:
            time.sleep(5)
            write()

    import threading

    threading.Thread(target=keep_writing, daemon=True, name="gc-probe").start()
