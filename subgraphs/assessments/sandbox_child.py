"""What the sandbox's child process runs (passed with ``python -I -S -c``; stdlib only).

It reads its job (the learner's code, the tests) from stdin, closes stdin, installs an
audit hook that refuses network, processes, threads, native code, introspection of other
frames and files outside its temporary folder, then runs the learner's code and each test
in a copy of its namespace. Each test's outcome goes to a result pipe as one line that
begins with a random nonce the learner's code cannot see (it lives only in a local of
`main`, and frame introspection is refused), so printing look-alike lines forges nothing.
"""

import json
import os
import sys


class SandboxViolation(RuntimeError):
    pass


def _install_hook(folder, readable):
    blocked_prefixes = (
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
        "os.setuid",
        "os.chroot",
        "ctypes.",
        "sys.settrace",
        "sys.setprofile",
        "sys._getframe",
        "sys._current_frames",
        "sys.addaudithook",
        "gc.get_",
        "_thread.start_new_thread",
        "pty.",
        "resource.setrlimit",
        "mmap.",
        "winreg.",
        "webbrowser.",
        "urllib.",
        "ftplib.",
        "smtplib.",
        "telnetlib.",
        "http.client.",
        "imaplib.",
        "poplib.",
        "nntplib.",
    )
    forbidden_modules = {
        "ctypes",
        "_ctypes",
        "_posixsubprocess",
        "socket",
        "_socket",
        "_thread",
        "threading",
        "multiprocessing",
        "subprocess",
        "signal",
        "resource",
        "mmap",
        "fcntl",
        "pty",
        "asyncio",
        "ssl",
        "select",
        "selectors",
    }
    frame_attributes = {
        "tb_frame",
        "gi_frame",
        "cr_frame",
        "ag_frame",
        "f_back",
        "f_locals",
        "f_globals",
        "__code__",
    }
    path_events = {
        "os.remove",
        "os.rename",
        "os.rmdir",
        "os.mkdir",
        "os.chmod",
        "os.chown",
        "os.symlink",
        "os.link",
        "os.truncate",
        "os.utime",
        "os.listdir",
        "os.scandir",
        "shutil.rmtree",
        "os.chdir",
    }

    def inside(path, roots):
        try:
            real = os.path.realpath(os.fsdecode(path))
        except (TypeError, ValueError):
            return False
        return any(real == root or real.startswith(root + os.sep) for root in roots)

    def hook(event, args):
        if event.startswith(blocked_prefixes):
            raise SandboxViolation(f"{event} is not allowed in the sandbox")
        if event == "import" and args and str(args[0]).split(".")[0] in forbidden_modules:
            raise SandboxViolation(f"importing {args[0]} is not allowed in the sandbox")
        if event == "object.__getattr__" and len(args) > 1 and args[1] in frame_attributes:
            raise SandboxViolation("inspecting frames is not allowed in the sandbox")
        if event == "open":
            path, mode = args[0], args[1]
            if isinstance(path, int):
                raise SandboxViolation("opening file descriptors is not allowed in the sandbox")
            writing = mode is not None and any(flag in str(mode) for flag in "wax+")
            if len(args) > 2 and isinstance(args[2], int):
                writing = writing or bool(args[2] & (os.O_WRONLY | os.O_RDWR | os.O_CREAT))
            if inside(path, [folder]):
                return
            if not writing and inside(path, readable):
                return
            raise SandboxViolation(f"access to {os.fsdecode(path)!r} is not allowed in the sandbox")
        path_like = bool(args) and isinstance(args[0], (str, bytes, os.PathLike))
        if event in path_events and not (path_like and inside(args[0], [folder])):
            raise SandboxViolation(f"{event} outside the working folder is not allowed")

    sys.addaudithook(hook)


def _describe(error):
    text = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
    return text[:500]


def _verdict(error):
    if isinstance(error, SandboxViolation):
        return "REFUSED"
    if isinstance(error, MemoryError):
        return "MEMORY_LIMIT"
    if isinstance(error, RecursionError):
        return "ERROR"
    return "ERROR"


def main():
    job = json.loads(sys.stdin.buffer.read())
    os.close(0)
    results = job["results_fd"]
    nonce = job["nonce"]
    folder = os.path.realpath(job["folder"])
    readable = [os.path.realpath(p) for p in job["readable"]]
    write = os.write

    def report(name, verdict, message):
        line = nonce + json.dumps({"name": name, "verdict": verdict, "message": message[:500]})
        write(results, (line + "\n").encode())

    tests = job["tests"]  # kept in this frame only: hidden tests stay hidden
    source = job["source"]
    job.clear()
    _install_hook(folder, readable)
    namespace = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        code = compile(source, "solution.py", "exec")
    except SyntaxError as error:
        for test in tests:
            report(test["name"], "ERROR", f"SyntaxError on line {error.lineno}: {error.msg}")
        return
    try:
        exec(code, namespace)  # noqa: S102 - running the learner's code is the point
    except BaseException as error:
        verdict = _verdict(error)
        message = _describe(error)
        if isinstance(error, SystemExit):
            verdict, message = "ERROR", "The program called exit() before the tests ran."
        for test in tests:
            report(test["name"], verdict, message)
        return
    for test in tests:
        scope = dict(namespace)
        try:
            exec(compile(test["code"], f"test {test['name']}", "exec"), scope)  # noqa: S102
        except AssertionError as error:
            report(test["name"], "FAILED", str(error) or "The assertion did not hold.")
        except BaseException as error:
            report(test["name"], _verdict(error), _describe(error))
        else:
            report(test["name"], "PASSED", "")


main()
