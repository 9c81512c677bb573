"""Copy one store snapshot to a new file: `python analytics/snapshot_copy.py SOURCE TARGET`.

Run as a child process by `store._copy`, never imported by a process that reads the store:
closing any descriptor of a file drops every POSIX lock the closing process holds on it, so
a server that opened and closed its own snapshot to copy it would lose the read lock its
DuckDB connection holds (and a program could then open that snapshot read-write under it).
Standard library only, so it starts in a few tens of milliseconds.

Exit 0: copied, synced, created 0600. Exit 3: the source is open read-write elsewhere.
"""

from __future__ import annotations

import errno
import fcntl
import os
import shutil
import struct
import sys

LOCKED = 3


def copy(source: str, target: str) -> None:
    """copy_file_range, which shares the blocks where the file system can (btrfs, XFS: a
    reflink, instant) and copies inside the kernel elsewhere; a plain copy where it is not
    supported. Holds the lock DuckDB's read-only connections take (a read lock on the whole
    file) meanwhile: a program with the file open read-write refuses the copy, and none can
    open it so during it."""
    with open(source, "rb") as src:
        request = struct.pack("hhqqi4x", fcntl.F_RDLCK, os.SEEK_SET, 0, 0, 0)  # struct flock
        fcntl.fcntl(src.fileno(), fcntl.F_SETLK, request)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as dst:
            size = os.fstat(src.fileno()).st_size
            try:
                done = 0
                while done < size:
                    copied = os.copy_file_range(src.fileno(), dst.fileno(), size - done)
                    if copied == 0:
                        break
                    done += copied
            except OSError as problem:
                if problem.errno not in (errno.EXDEV, errno.ENOSYS, errno.EOPNOTSUPP, errno.EINVAL):
                    raise
                src.seek(0)
                dst.seek(0)
                dst.truncate()
                shutil.copyfileobj(src, dst, 16 << 20)
            dst.flush()
            os.fsync(dst.fileno())


if __name__ == "__main__":
    try:
        copy(sys.argv[1], sys.argv[2])
    except OSError as problem:
        if problem.errno in (errno.EACCES, errno.EAGAIN):
            sys.exit(LOCKED)
        print(f"{type(problem).__name__}: {problem}", file=sys.stderr)
        sys.exit(1)
