"""The CPU time of a command and of every process it starts, Chromium's included.

    python bench/cpu_of.py LABEL COMMAND...    e.g.  bench/cpu_of.py minimize \\
        .venv/bin/python -m pytest -q -p no:cacheprovider tests/test_minimize.py

`/usr/bin/time` counts only the descendants their parents waited for. Chromium's
renderers and zygote are not among them: a renderer kept busy for 3 s showed as
0.8 s, and the whole suite as 343 CPU seconds where it took some 650. This wrapper
makes itself the child subreaper (Linux), so that every orphan is handed to it and
reaped here, and reports the children's total once the last descendant has ended.
A process that never ends (a server left running) keeps it waiting.

Prints `LABEL rc=… wall=… cpu=… (user … sys …)` on stderr; exits with the command's code.
"""

import ctypes
import os
import resource
import subprocess
import sys
import time

PR_SET_CHILD_SUBREAPER = 36


def main() -> None:
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    label, command = sys.argv[1], sys.argv[2:]
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit(f"cannot become a child subreaper: {os.strerror(ctypes.get_errno())}")
    started = time.monotonic()
    proc = subprocess.Popen(command)
    code, wall = 1, 0.0
    while True:
        try:
            pid, status = os.waitpid(-1, 0)
        except ChildProcessError:  # no descendant left
            break
        if pid == proc.pid:
            code, wall = os.waitstatus_to_exitcode(status), time.monotonic() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    print(
        f"{label} rc={code} wall={wall:.1f} cpu={usage.ru_utime + usage.ru_stime:.1f} "
        f"(user {usage.ru_utime:.1f} sys {usage.ru_stime:.1f})",
        file=sys.stderr,
    )
    sys.exit(code)


if __name__ == "__main__":
    main()
