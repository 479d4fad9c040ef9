#!/usr/bin/python3
"""A FUSE file system for the stalled-storage tests: a read-only view of BACKING mounted at
MOUNTPOINT whose lookups of names starting with "slow" stall.

Control files in CTL, read on every stalled lookup:
- CTL/delay: seconds (a float) each such lookup waits; absent or empty means 0;
- CTL/hang: while it exists, each such lookup waits until it is removed (polled every 10 ms);
- CTL/hang-reads: while it exists, each read of such a file waits until it is removed.

Every other name answers at once. Runs multithreaded (one stalled lookup does not hold up the
others) in the foreground; the test stops it by PID and unmounts its own mount point.

Usage: stallfs.py BACKING MOUNTPOINT CTL
"""

import errno
import os
import sys
import time

import fusepy


class StallFs(fusepy.Operations):
    def __init__(self, backing, ctl):
        self.backing = backing
        self.ctl = ctl

    def _real(self, path):
        return os.path.join(self.backing, path.lstrip("/"))

    def _stall(self, path):
        if not os.path.basename(path).startswith("slow"):
            return
        try:
            with open(os.path.join(self.ctl, "delay")) as f:
                delay = float(f.read().strip() or 0)
        except (OSError, ValueError):
            delay = 0.0
        if delay > 0:
            time.sleep(delay)
        while os.path.exists(os.path.join(self.ctl, "hang")):
            time.sleep(0.01)

    def getattr(self, path, fh=None):
        self._stall(path)
        try:
            st = os.lstat(self._real(path))
        except OSError as e:
            raise fusepy.FuseOSError(e.errno)
        keys = ("st_mode", "st_nlink", "st_uid", "st_gid", "st_size", "st_atime", "st_mtime", "st_ctime", "st_ino")
        return {k: getattr(st, k) for k in keys}

    def readdir(self, path, fh):
        return [".", ".."] + os.listdir(self._real(path))

    def open(self, path, flags):
        if flags & (os.O_WRONLY | os.O_RDWR):
            raise fusepy.FuseOSError(errno.EROFS)
        return os.open(self._real(path), os.O_RDONLY)

    def read(self, path, size, offset, fh):
        if os.path.basename(path).startswith("slow"):
            while os.path.exists(os.path.join(self.ctl, "hang-reads")):
                time.sleep(0.01)
        return os.pread(fh, size, offset)

    def release(self, path, fh):
        os.close(fh)
        return 0


def main():
    backing, mountpoint, ctl = sys.argv[1:4]
    fusepy.FUSE(StallFs(backing, ctl), mountpoint, foreground=True, nothreads=False, ro=True, allow_other=True)


if __name__ == "__main__":
    main()
