"""Writing output files: whole, atomically, and only when they change.

The command line renders an output to a string first and hands it to
:func:`write_atomic`, which

- refuses to replace an existing file that is not, byte for byte, what
  texderive wrote (its marker's checksum, see :mod:`texderive.ownership`), or
  that is read-only, unless ``force`` is given, so a hand-written
  ``paper.tex`` or hand edits to a generated one are never lost to ``-o``;
- leaves the file alone, mtime included, when its content is already the
  same, so ``make`` does not rebuild the PDFs that depend on it;
- otherwise writes a temporary file in the target's directory, flushes and
  fsyncs it, gives it the target's mode (``0o644`` less the umask for a new
  file; ``mkstemp`` makes ``0o600``) and moves it over the target with
  ``os.replace``.  A reader sees the old file or the new one, never a partial
  one, and a failure (or SIGTERM) removes the temporary file.

The temporary file is ``.texderive-PID-XXXXXXXX.tmp``: one left by a writer
that was killed outright (SIGKILL, a power cut) is removed by the next write
into the same directory once process PID is gone, and never while it runs
(``make -j`` may run several writers at once).

Not click's ``open_file(atomic=True)``: it replaces the target even when the
code writing it raised.
"""
from __future__ import annotations

import contextlib
import os
import re
import signal
import stat
import tempfile
import threading
import time

from .errors import TexderiveError

#: Temporary files of 0.1.0 had no PID in their name: removed once this old.
_STALE_LEGACY = 24 * 3600
_TMP_RE = re.compile(r"\A\.texderive-(?:(?P<pid>\d+)-)?[A-Za-z0-9_]+\.tmp\Z")


class WriteError(TexderiveError):
    """An output file cannot be written, or may not be replaced."""


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:                     # EPERM: it exists, owned by someone else
        return True
    return True


def sweep(directory) -> list:
    """Remove the temporary files in ``directory`` whose writer is gone; return their names.

    Only ``.texderive-PID-*.tmp`` regular files of this user whose process PID
    no longer exists (and 0.1.0's ``.texderive-*.tmp`` older than a day) are
    removed: a concurrent writer's temporary file is left alone.
    """
    removed = []
    try:
        names = sorted(os.listdir(directory))
    except OSError:
        return removed
    now = time.time()
    for name in names:
        m = _TMP_RE.match(name)
        if not m:
            continue
        path = os.path.join(directory, name)
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_uid != os.getuid():
            continue
        pid = m.group("pid")
        stale = (not _alive(int(pid))) if pid else now - st.st_mtime > _STALE_LEGACY
        if stale:
            with contextlib.suppress(OSError):
                os.unlink(path)
                removed.append(name)
    return removed


class _Terminated(BaseException):
    """SIGTERM arrived during a write: unwind (removing the temporary file), then exit."""


@contextlib.contextmanager
def _sigterm_unwinds():
    """While writing, SIGTERM raises (so ``finally`` removes the temporary file)
    and the process then dies of SIGTERM as it would have; elsewhere (another
    thread, a handler already set by the program) nothing changes."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    try:
        previous = signal.getsignal(signal.SIGTERM)
    except (ValueError, AttributeError):
        yield
        return
    if previous not in (signal.SIG_DFL, None):
        yield
        return

    def handler(signum, frame):
        raise _Terminated()

    signal.signal(signal.SIGTERM, handler)
    try:
        yield
    except _Terminated:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        os.kill(os.getpid(), signal.SIGTERM)
        raise SystemExit(128 + signal.SIGTERM) from None
    finally:
        signal.signal(signal.SIGTERM, previous)


def write_atomic(path, text, *, force: bool = False) -> bool:
    """Write ``text`` (str, or bytes for a zip) to ``path``; return False when
    the file already held it.

    Raises :class:`WriteError` (a :class:`TexderiveError`) when the target
    is not texderive's to replace (hand-written, edited since, appended to,
    read-only: the message says which) and ``force`` is false, or when it
    cannot be written; the target is then unchanged.
    """
    from .ownership import MAX_SIZE
    shown = os.fspath(path)
    target = os.path.realpath(shown)        # write through a symlink, keep the link
    if isinstance(text, str):
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError as e:
            raise WriteError(f"cannot write {shown}: the output has a character that is not "
                             f"valid Unicode (U+{ord(e.object[e.start]):04X} at position "
                             f"{e.start}); nothing was written") from None
    else:
        data = bytes(text)
    try:
        st = os.stat(target)
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise WriteError(f"cannot write {shown}: {e.strerror or e}") from None
    if st is not None:
        if not stat.S_ISREG(st.st_mode):
            raise WriteError(f"cannot write {shown}: it is not a regular file")
        try:
            with open(target, "rb") as f:
                old = f.read(MAX_SIZE + 1)
        except OSError as e:
            raise WriteError(f"cannot read {shown} to compare it: {e.strerror or e}") from None
        if old == data:
            return False
        if not force:
            verdict = _verdict(old, shown)
            if not verdict:
                raise WriteError(f"{shown} exists and {verdict.reason}; "
                                 "use --force to replace it")
            # the mode bits, not os.access: for root every file is writable
            if not st.st_mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH) or \
                    not os.access(target, os.W_OK):
                raise WriteError(f"{shown} exists and is read-only; use --force to replace it")
        mode = stat.S_IMODE(st.st_mode)
    else:
        mode = 0o644 & ~_umask()
    directory = os.path.dirname(target) or "."
    sweep(directory)
    with _sigterm_unwinds():
        _replace(target, shown, directory, data, mode)
    return True


def _verdict(old: bytes, shown: str):
    from .ownership import data_verdict
    return data_verdict(old, "zip" if shown.lower().endswith(".zip") else None)


def _replace(target: str, shown: str, directory: str, data: bytes, mode: int) -> None:
    try:
        fd, tmp = tempfile.mkstemp(dir=directory, prefix=f".texderive-{os.getpid()}-",
                                   suffix=".tmp")
    except OSError as e:
        raise WriteError(f"cannot write {shown}: {e.strerror or e} ({directory})") from None
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, target)
    except BaseException as e:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(e, OSError):
            raise WriteError(f"cannot write {shown}: {e.strerror or e}") from None
        raise
