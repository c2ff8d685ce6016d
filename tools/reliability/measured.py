"""Runs a program to its end and measures its peak resident memory, as the scripts here report it.

The peak is the child's own high-water mark (VmHWM in /proc/PID/status), read every 10 ms while it
runs. Not wait4's ru_maxrss: posix_spawn starts the child in this process's memory (vfork), and Linux
carries that memory's peak across exec into the child's ru_maxrss, so a large Python parent would be
counted as the child's.
"""
import os
import signal
import time


def run(argv, stdin=None, stdout=None, stderr=None, timeout=None):
    """(exit code, peak RSS in MB, seconds); stdin/stdout/stderr are paths (None: /dev/null)."""
    opened = []

    def fd(path, flags):
        f = os.open(path or os.devnull, flags, 0o600)
        opened.append(f)
        return f

    actions = [
        (os.POSIX_SPAWN_DUP2, fd(stdin, os.O_RDONLY), 0),
        (os.POSIX_SPAWN_DUP2, fd(stdout, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 1),
        (os.POSIX_SPAWN_DUP2, fd(stderr, os.O_WRONLY | os.O_CREAT | os.O_TRUNC), 2),
    ]
    start = time.time()
    pid = os.posix_spawn(argv[0], argv, os.environ, file_actions=actions)
    for f in opened:
        os.close(f)
    peak_mb = 0.0
    while True:
        peak_mb = max(peak_mb, peak(pid))
        done, status, _ = os.wait4(pid, os.WNOHANG)
        if done:
            break
        if timeout is not None and time.time() - start > timeout:
            os.kill(pid, signal.SIGKILL)
            _, status, _ = os.wait4(pid, 0)
            break
        time.sleep(0.01)
    return os.waitstatus_to_exitcode(status), peak_mb, time.time() - start


def peak(pid):
    """A running process's peak resident memory so far in MB (0 once it has ended)."""
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except (FileNotFoundError, ProcessLookupError):
        pass
    return 0.0
