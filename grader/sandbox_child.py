"""What the sandbox's child process runs (``python -I -S -B -c``: standard library only).

Threat model: everything after ``_confine`` is hostile code sharing this interpreter. The
runner therefore, before the learner's first line:
- reads its job (nonce, results fd, code, tests) from stdin, then puts /dev/null on fd 0;
- keeps the nonce and every function it needs later in locals of ``main`` (never in a
  module global or anything importable), so monkeypatching ``json``, ``os``, ``builtins``
  or this module changes nothing it does;
- installs a seccomp filter (x86-64): no sockets, forks, execs, signals to anyone, timers,
  signal handlers, ptrace or namespaces. Without it a handler for SIGXCPU/SIGXFSZ/SIGPIPE
  would receive the runner's frame and read the nonce from ``f_back.f_locals``;
- installs an audit hook refusing what remains reachable in Python: frames (``_getframe``,
  ``tb_frame``, ``gi_frame``...), ``gc`` walks, tracing, code objects and marshal, native
  code, other interpreters, and files outside the temporary folder (reading is also allowed
  under the interpreter's own standard library, which imports compile from source);
- hides its own module: the learner's namespace becomes ``sys.modules["__main__"]``.
Results go to a pipe as lines ``\\n<nonce> <index> <verdict> <hex message>``; the parent
ignores any other line, so printing or writing look-alike lines forges nothing.
Residual risk, accepted: audit hooks are not a security boundary (a CPython memory-safety
bug could reach the nonce; the kernel limits still hold), builtin modules such as ``pwd``
can be re-created with ``_imp.create_builtin``, and a learner can return objects whose
``__eq__`` is always true (instructors should assert on types or use ``repr``).
"""

from __future__ import annotations  # annotations stay strings: nothing more is imported

import os
import sys

TYPE_CHECKING = False  # typing is for mypy only; the child imports nothing it does not use
if TYPE_CHECKING:
    from typing import Any, NoReturn

FORBIDDEN_MODULES = frozenset(
    {
        "ctypes",
        "_ctypes",
        "_posixsubprocess",
        "subprocess",
        "socket",
        "_socket",
        "ssl",
        "_ssl",
        "signal",
        "_signal",
        "threading",
        "multiprocessing",
        "_multiprocessing",
        "_posixshmem",
        "asyncio",
        "_asyncio",
        "selectors",
        "select",
        "mmap",
        "fcntl",
        "termios",
        "pty",
        "resource",
        "sqlite3",
        "_sqlite3",
        "dbm",
        "_dbm",
        "_gdbm",
        "readline",
        "_curses",
        "syslog",
        "pwd",
        "grp",
        "spwd",
        "faulthandler",
    }
)
FORBIDDEN_PREFIXES = ("_test", "_xx", "xx")
REFUSED_EVENTS = (
    "socket.",
    "subprocess.",
    "os.exec",
    "os.spawn",
    "os.posix_spawn",
    "os.fork",
    "os.forkpty",
    "os.system",
    "os.kill",
    "os.killpg",
    "os.chdir",
    "os.fchdir",
    "os.symlink",
    "os.link",
    "os.getxattr",
    "os.setxattr",
    "os.listxattr",
    "os.removexattr",
    "ctypes.",
    "sys.settrace",
    "sys.setprofile",
    "sys._current_frames",
    "sys._current_exceptions",
    "sys.addaudithook",
    "gc.get_",
    "code.__new__",
    "marshal.load",
    "cpython.PyInterpreterState_New",
    "_thread.start_new_thread",
    "pty.",
    "resource.",
    "mmap.",
    "sqlite3.",
    "syslog.",
    "webbrowser.",
    "signal.",
)
FRAME_ATTRIBUTES = frozenset(
    ("tb_frame", "gi_frame", "cr_frame", "ag_frame", "f_back", "f_locals", "f_globals")
)
PATH_EVENTS = frozenset(
    (
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.truncate",
        "os.utime",
        "shutil.rmtree",
        "shutil.copyfile",
        "shutil.copymode",
        "shutil.copystat",
        "shutil.copytree",
        "shutil.move",
        "shutil.make_archive",
    )
)
LISTING_EVENTS = frozenset(("os.listdir", "os.scandir", "glob.glob", "glob.glob/2"))
MAX_WRITE_OPENS = 64  # with RLIMIT_FSIZE, bounds what a run can leave on disk

# x86-64 system calls a learner never needs (seccomp); rt_sigaction only when installing.
AUDIT_ARCH_X86_64 = 0xC000003E
BLOCKED_SYSCALLS = (
    41, 42, 43, 49, 50, 53, 288,  # socket connect accept bind listen socketpair accept4
    56, 57, 58, 59, 322, 435,  # clone fork vfork execve execveat clone3
    62, 200, 234, 129, 297, 424,  # kill tkill tgkill rt_(tg)sigqueueinfo pidfd_send_signal
    37, 38, 222,  # alarm setitimer timer_create
    101, 310, 311,  # ptrace process_vm_readv/writev
    272, 308, 165, 166, 155, 161,  # unshare setns mount umount2 pivot_root chroot
    321, 323, 298, 248, 249, 250, 425, 426, 427, 135, 302, 160,  # bpf userfaultfd ... prlimit
)  # fmt: skip


class SandboxViolation(PermissionError):
    """Raised by the audit hook; the runner reports it as REFUSED."""


class FrameViolation(SandboxViolation, ValueError):
    """For ``sys._getframe``: the standard library catches ValueError there (namedtuple,
    TypeVar, Enum) and carries on without the caller's module name."""


def _seccomp() -> bool:
    """Kernel-level refusal of the system calls above; returns whether it is in force."""
    import ctypes  # before the audit hook; forgotten afterwards
    import struct

    if os.uname().machine != "x86_64":
        return False
    libc = ctypes.CDLL(None, use_errno=True)
    errno_eperm = 0x00050000 | 1
    allow, kill = 0x7FFF0000, 0x80000000
    ld, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
    program = [
        (ld, 0, 0, 4),
        (jeq, 1, 0, AUDIT_ARCH_X86_64),
        (ret, 0, 0, kill),
        (ld, 0, 0, 0),
        (jge, len(BLOCKED_SYSCALLS) + 5, 0, 0x40000000),  # x32 ABI: refused
    ]
    for index, number in enumerate(BLOCKED_SYSCALLS):
        program.append((jeq, len(BLOCKED_SYSCALLS) + 4 - index, 0, number))
    program += [
        (jeq, 0, 5, 13),  # rt_sigaction: allowed only to read a handler (act == NULL)
        (ld, 0, 0, 24),
        (jeq, 0, 2, 0),
        (ld, 0, 0, 28),
        (jeq, 1, 0, 0),
        (ret, 0, 0, errno_eperm),
        (ret, 0, 0, allow),
    ]
    # Every jump to "refused" lands on the errno return, the second-to-last instruction.
    filters = b"".join(struct.pack("=HBBI", *instruction) for instruction in program)
    buffer = ctypes.create_string_buffer(filters)
    prog = struct.pack("=HxxxxxxQ", len(program), ctypes.addressof(buffer))
    prog_buffer = ctypes.create_string_buffer(prog)
    word = ctypes.c_ulong
    if libc.prctl(38, word(1), word(0), word(0), word(0)) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    pointer = word(ctypes.addressof(prog_buffer))
    return bool(libc.prctl(22, word(2), pointer, word(0), word(0)) == 0)  # SECCOMP_MODE_FILTER


def _install_hook(folder: str, readable: tuple[str, ...]) -> None:
    # Everything the hook uses is bound here: the learner can patch os, builtins or this
    # module's globals afterwards without changing what the hook decides.
    posix_stat, add_hook = os.stat, sys.addaudithook
    str_type, bytes_type, int_type, type_, len_, any_, bool_ = str, bytes, int, type, len, any, bool
    startswith, split, join = str.startswith, str.split, str.join
    decode = bytes.decode
    violation, frame_violation = SandboxViolation, FrameViolation
    refused_events, forbidden, prefixes = REFUSED_EVENTS, FORBIDDEN_MODULES, FORBIDDEN_PREFIXES
    frame_attributes, path_events, listing_events = FRAME_ATTRIBUTES, PATH_EVENTS, LISTING_EVENTS
    write_flags = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
    max_writes = MAX_WRITE_OPENS
    writes = [0]

    def normal(path: Any) -> str | None:
        kind = type_(path)
        if kind is bytes_type:
            path = decode(path, "utf-8", "surrogateescape")
        elif kind is not str_type:
            return None  # a path-like object could answer differently the second time
        if not startswith(path, "/"):
            path = folder + "/" + path
        parts: list[str] = []
        for part in split(path, "/"):
            if part == "..":
                if parts:
                    parts.pop()
            elif part and part != ".":
                parts.append(part)
        return "/" + join("/", parts)

    def inside(path: str, roots: tuple[str, ...]) -> bool:
        return any_(path == root or startswith(path, root + "/") for root in roots)

    def refuse(what: str) -> NoReturn:
        raise violation(what + " is not allowed in the sandbox")

    def check_path(event: str, path: Any, writing: bool) -> None:
        if type_(path) is int_type and event != "open":
            return
        real = normal(path)
        if real is None:
            refuse(event + " on something other than a str path")
        if inside(real, (folder,)):
            if writing:
                writes[0] += 1
                if writes[0] > max_writes:
                    refuse("opening more than " + str_type(max_writes) + " files for writing")
            return
        if not writing and inside(real, readable):
            if event != "open":
                return
            try:
                mode = posix_stat(real).st_mode
            except OSError:
                return  # the open fails on its own
            if mode & 0o170000 == 0o100000:  # a regular file
                return
        refuse("access to " + real)

    def hook(event: Any, args: tuple[Any, ...]) -> None:
        if type_(event) is not str_type:
            return
        if startswith(event, refused_events):
            refuse(event)
        if event == "sys._getframe":
            raise frame_violation("sys._getframe is not allowed in the sandbox")
        if event == "import":
            name = args[0] if type_(args[0]) is str_type else ""
            top = split(name, ".")[0]
            if top in forbidden or startswith(top, prefixes):
                refuse("importing " + name)
        elif event in ("object.__getattr__", "object.__setattr__", "object.__delattr__"):
            name = args[1] if len_(args) > 1 and type_(args[1]) is str_type else ""
            if name in frame_attributes:
                refuse("inspecting frames")
            if event != "object.__getattr__" and name == "__code__":
                refuse("replacing a function's code")
        elif event == "open":
            path, mode, flags = args[0], args[1], args[2]
            if type_(path) is int_type:
                refuse("opening a file descriptor")
            writing = bool_(type_(flags) is int_type and flags & write_flags)
            if type_(mode) is str_type and any_(flag in mode for flag in "wax+"):
                writing = True
            check_path(event, path, writing)
        elif event in path_events:
            check_path(event, args[0], True)
            if event in ("os.rename", "shutil.copyfile", "shutil.move") and len_(args) > 1:
                check_path(event, args[1], True)
        elif event in listing_events and args and args[0] is not None:
            check_path(event, args[0], False)

    add_hook(hook)


def main() -> None:
    chunks: list[bytes] = []
    while True:
        chunk = os.read(0, 1 << 16)
        if not chunk:
            break
        chunks.append(chunk)
    os.close(0)
    os.open("/dev/null", os.O_RDONLY)  # becomes fd 0: input() sees the end of the file

    import builtins
    import json

    job = json.loads(b"".join(chunks))
    del chunks
    nonce = job["nonce"]
    results = job["results_fd"]
    folder = os.path.realpath(job["folder"])
    tests = [(test["name"], test["code"]) for test in job["tests"]]
    source = job["source"]
    job.clear()
    readable = tuple(os.path.realpath(path) for path in sys.path if os.path.isdir(path))

    # Bound now, used after the learner's code has run (see the module docstring).
    write, compile_, exec_, dict_, type_, range_ = os.write, compile, exec, dict, type, range
    str_, issubclass_, len_, enumerate_ = str, issubclass, len, enumerate
    base_exception, memory_error, assertion_error = BaseException, MemoryError, AssertionError
    syntax_error, system_exit, violation = SyntaxError, SystemExit, SandboxViolation
    to_text, encode, to_hex = str.__str__, str.encode, bytes.hex
    pristine = dict(builtins.__dict__)

    def text_of(value: object) -> str:
        try:
            value = str_(value)
            return to_text(value) if issubclass_(type_(value), str_) else ""
        except base_exception:
            return ""

    def describe(error: BaseException) -> str:
        name = text_of(type_.__getattribute__(type_(error), "__name__"))
        text = text_of(error)
        return (name + ": " + text if text else name)[:500]

    def report(index: int, verdict: str, message: str) -> None:
        line = "\n" + nonce + " " + str_(index) + " " + verdict + " "
        line += to_hex(encode(to_text(message)[:500], "utf-8", "replace")[:1500]) + "\n"
        try:  # noqa: SIM105 - no module lookups after the learner has run
            write(results, encode(line, "ascii"))
        except OSError:
            pass  # the learner closed or replaced the pipe: the parent reports an error

    def verdict_of(error: BaseException) -> str:
        kind = type_(error)
        if issubclass_(kind, violation):
            return "REFUSED"
        if issubclass_(kind, memory_error):
            return "MEMORY_LIMIT"
        return "ERROR"

    def report_all(verdict: str, message: str) -> None:
        for index in range_(len_(tests)):
            report(index, verdict, message)

    sys.pycache_prefix = folder + "/.no-bytecode"  # imports compile the stdlib from source
    for name in ("_signal", "pwd", "grp", "spwd", "faulthandler"):
        sys.modules.pop(name, None)
    try:
        filtered = _seccomp()
    except (OSError, AttributeError, ImportError):
        filtered = False
    for name in ("ctypes", "_ctypes", "ctypes._endian", "struct", "_struct"):
        sys.modules.pop(name, None)
    write(results, encode("\n" + nonce + " seccomp " + ("1" if filtered else "0") + "\n"))
    _install_hook(folder, readable)

    solution = type_(sys)("__main__")
    sys.modules["__main__"] = solution  # this runner's module is no longer importable
    namespace = solution.__dict__
    namespace["__builtins__"] = dict_(pristine)
    try:
        code = compile_(source, "solution.py", "exec")
    except syntax_error as error:
        where = " on line " + str_(error.lineno) if error.lineno else ""
        report_all("ERROR", "SyntaxError" + where + ": " + text_of(error.msg))
        return
    except base_exception as error:
        report_all("ERROR", describe(error))
        return
    try:
        exec_(code, namespace)
    except base_exception as error:
        if issubclass_(type_(error), system_exit):
            report_all("ERROR", "The program called exit() before the tests ran.")
        else:
            report_all(verdict_of(error), describe(error))
        return
    for index, (name, test) in enumerate_(tests):
        scope = dict_(namespace)
        scope["__builtins__"] = dict_(pristine)  # the learner's edits to builtins stay theirs
        try:
            exec_(compile_(test, "test " + name, "exec"), scope)
        except assertion_error as error:
            report(index, "FAILED", text_of(error)[:500] or "The assertion did not hold.")
        except base_exception as error:
            report(index, verdict_of(error), describe(error))
        else:
            report(index, "PASSED", "")


main()
