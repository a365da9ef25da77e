"""Atomic file writes: a temp file in the target's folder, flushed, fsynced, renamed over it.

A crash mid-save leaves the previous file intact, and nothing else behind for long:

- the temp file is ``.<name>.npgrad-tmp-<pid>-<random>`` in the target's own folder (never a
  temporary folder elsewhere), removed on any exception;
- a writer killed mid-save (SIGKILL, power loss) cannot remove its temp file, so the next save
  to the same target removes every such file whose writer is gone: its pid is not running, or
  is running but started after the file was last written (the pid was reused). A temp file
  of a live writer, including another thread of this process, is never touched.

Every saver in npgrad (models, weights, checkpoints, IDX files, downloads) writes through here.

Example:
    >>> with atomic_write("ckpt/model.npgrad") as file:
    ...     file.write(data)                  # renamed over the target on success
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import threading

import numpy as np

__all__ = ["TEMP_MARKER", "atomic_savez", "atomic_write", "remove_stale_temp_files",
           "temp_file_pattern"]

#: What every temp file name holds: ``.<target name>.npgrad-tmp-<pid>-<hex>``.
TEMP_MARKER = ".npgrad-tmp-"

# temp files this process is writing now (a same-pid file not in here is from an earlier
# process that had our pid, e.g. a restarted container)
_LIVE = set()
_LIVE_LOCK = threading.Lock()


def _current_umask():
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _fsync_folder(folder):
    """Make the rename itself durable (POSIX); a no-op where folders cannot be opened."""
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def temp_file_pattern(target_name):
    """The regular expression matching temp files of ``target_name``; group 1 is the pid."""
    return re.compile(re.escape(f".{target_name}{TEMP_MARKER}") + r"(\d+)-[0-9a-f]+\Z")


def _process_start_time(pid):
    """When process ``pid`` started (seconds since the epoch, Linux), or None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            stat = file.read().decode("ascii", "replace")
        with open("/proc/stat", "rb") as file:
            boot = next(int(line.split()[1]) for line in file if line.startswith(b"btime "))
        # fields after the parenthesised command name start at field 3; starttime is field 22
        ticks = int(stat[stat.rindex(")") + 2:].split()[19])
        return boot + ticks / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError, StopIteration):
        return None


def _writer_is_gone(pid, temp_path):
    if pid == os.getpid():
        with _LIVE_LOCK:
            return temp_path not in _LIVE
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except (PermissionError, OverflowError, OSError):
        return False  # alive under another user (or unknowable): leave it
    # pid alive: a reused pid if that process started after the file was last written
    started = _process_start_time(pid)
    try:
        written = os.stat(temp_path).st_mtime
    except OSError:
        return False
    return started is not None and started > written + 2.0


def remove_stale_temp_files(filepath):
    """Remove the temp files of ``filepath`` left by writers that are gone (see module doc).

    Args:
        filepath: the target file (its folder is scanned for its temp files only).

    Returns:
        The names removed.
    """
    path = os.path.abspath(os.fspath(filepath))
    folder, name = os.path.split(path)
    pattern = temp_file_pattern(name)
    removed = []
    try:
        entries = os.listdir(folder)
    except OSError:
        return removed
    for entry in entries:
        match = pattern.match(entry)
        if match is None:
            continue
        temp_path = os.path.join(folder, entry)
        if _writer_is_gone(int(match.group(1)), temp_path):
            try:
                os.unlink(temp_path)
                removed.append(entry)
            except OSError:
                pass
    return removed


@contextlib.contextmanager
def atomic_write(filepath, mode=None):
    """Open a temp file next to ``filepath``; on success rename it over ``filepath``.

    Args:
        filepath: the target; its folder must exist.
        mode: permission bits of the new file; default: those of the file it replaces,
            else 0o666 minus the umask.

    Yields:
        The temp file, open for binary writing (``file.name`` is its path). It is flushed
        and fsynced, then renamed over the target (and the folder fsynced) when the block
        ends without an exception; on any exception it is removed and the target is
        untouched.

    Raises:
        FileNotFoundError: the folder does not exist.
        IsADirectoryError: ``filepath`` is a folder.
    """
    path = os.path.abspath(os.fspath(filepath))
    folder, name = os.path.split(path)
    if not os.path.isdir(folder):
        raise FileNotFoundError(f"cannot save to {filepath!r}: folder {folder!r} does not exist")
    if os.path.isdir(path):
        raise IsADirectoryError(f"cannot save to {filepath!r}: it is a folder")
    if mode is None:
        mode = os.stat(path).st_mode & 0o777 if os.path.exists(path) else \
            0o666 & ~_current_umask()
    remove_stale_temp_files(path)
    temp_path = os.path.join(folder, f".{name}{TEMP_MARKER}{os.getpid()}-{secrets.token_hex(4)}")
    with _LIVE_LOCK:
        _LIVE.add(temp_path)
    try:
        try:
            with open(temp_path, "xb") as file:
                yield file
                file.flush()
                os.fsync(file.fileno())
            os.chmod(temp_path, mode)
            os.replace(temp_path, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temp_path)
            raise
    finally:
        with _LIVE_LOCK:
            _LIVE.discard(temp_path)
    _fsync_folder(folder)


def atomic_savez(filepath, arrays):
    """Write ``arrays`` with ``np.savez`` to ``filepath`` atomically (temp file + rename).

    On any exception the temp file is removed and an existing ``filepath`` is untouched.
    """
    with atomic_write(filepath) as file:
        # a file object, not a name: np.savez would append ".npz" to a name
        np.savez(file, **arrays)

