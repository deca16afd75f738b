"""Run a command with its output in a log, showing one progress line instead.

    python tools/quietly.py LOG "what it does" -- COMMAND...

On a terminal the line counts the seconds and the packages installed so far (uv's "+ name"
lines); elsewhere it is printed once at the start. At the end: one line with the figures, or,
when the command failed, the end of its log and the log's path. Only the standard library: it
runs before the stack is installed.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    if len(argv) < 4 or argv[2] != "--":
        print(__doc__, file=sys.stderr)
        return 2
    log, what, command = Path(argv[0]), argv[1], argv[3:]
    log.parent.mkdir(parents=True, exist_ok=True)
    tty = sys.stdout.isatty()
    started = time.monotonic()
    packages = 0
    done = threading.Event()

    def show() -> None:
        while not done.wait(1.0):
            elapsed = time.monotonic() - started
            count = f", {packages} packages so far" if packages else ""
            sys.stdout.write(f"\r{what}… {elapsed:.0f} s{count} ")
            sys.stdout.flush()

    if tty:
        threading.Thread(target=show, daemon=True).start()
    else:
        print(f"{what}… (output in {log})", flush=True)
    with log.open("w") as out:
        proc = subprocess.Popen(
            command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
        )
        assert proc.stdout is not None
        for line in proc.stdout:
            out.write(line)
            if line.lstrip().startswith("+ "):
                packages += 1
        code = proc.wait()
    done.set()
    elapsed = time.monotonic() - started
    if tty:
        sys.stdout.write("\r\033[K")
    if code != 0:
        tail = log.read_text().splitlines()[-20:]
        print("\n".join(tail), file=sys.stderr)
        print(f"✗ {what} failed (exit {code}); the whole output: {log}", file=sys.stderr)
        return code
    count = f"{packages} packages in " if packages else ""
    print(f"✓ {what}: done, {count}{elapsed:.0f} s (output in {log})", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
