"""creditflow's judge for Python assertion tests: a pass is this harness's word, never the exit status.

Two processes. This one (the judge) forks the candidate before it has read anything secret:

  candidate  runs the program (main.py) and then serves calls: "call f with these arguments".
             It closes the verdict channel (fd 3) before the program's first line runs.
  judge      reads the test and a per-run nonce from fd 3, runs the test code itself, and sends
             every call of a program function to the candidate. Arguments and results cross as
             `marshal` data, so only plain values come back (an object whose __eq__ always returns
             True cannot be returned); the comparisons run here, in a process the program never
             touches: the judge is not dumpable, so the candidate can neither read its memory nor
             open its fd 3 through /proc. After the test returns, the judge writes the nonce and the
             verdict on fd 3 and exits.

An early exit, a crash or a kill of either process leaves no verdict: the parent scores the test as
failed. The program's stdout and stderr are only logs.

Protocol on fd 3: the parent writes one JSON object {"nonce", "test"} and closes its side; the judge
answers one JSON line {"nonce", "pass": bool, "why": str}.
"""

import ast
import builtins
import ctypes
import json
import marshal
import os
import struct
import sys

VERDICT_FD = 3
MAX_FRAME = 64 << 20
PLAIN = (int, float, complex, str, bytes, bool, type(None), tuple, list, dict, set, frozenset)


def send(fd, obj):
    data = marshal.dumps(obj)
    os.write(fd, struct.pack("<I", len(data)))
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def read_exact(fd, n):
    chunks = []
    while n > 0:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def receive(fd):
    head = read_exact(fd, 4)
    if head is None:
        return None
    (size,) = struct.unpack("<I", head)
    if size > MAX_FRAME:
        raise ValueError("reply too large")
    body = read_exact(fd, size)
    if body is None:
        return None
    return marshal.loads(body)


def plain(value, depth=0):
    """Only builtin value types, exactly (no subclasses), nested at most 100 deep."""
    if depth > 100 or type(value) not in PLAIN:
        return False
    if type(value) in (tuple, list, set, frozenset):
        return all(plain(v, depth + 1) for v in value)
    if type(value) is dict:
        return all(plain(k, depth + 1) and plain(v, depth + 1) for k, v in value.items())
    return True


def describe(exc):
    return f"{type(exc).__name__}: {exc}"[:300]


# ---------------------------------------------------------------- candidate side

def candidate(calls, replies):
    namespace = {"__name__": "__main__", "__builtins__": builtins}
    try:
        with open("main.py", encoding="utf-8") as f:
            source = f.read()
        exec(compile(source, "main.py", "exec"), namespace)
    except BaseException as exc:  # noqa: BLE001 - SystemExit included: an exit is a failure, not a pass
        send(replies, ("load-error", describe(exc)))
        return
    names = sorted(k for k, v in list(namespace.items()) if callable(v) and not k.startswith("__"))
    send(replies, ("ready", names))
    while True:
        request = receive(calls)
        if request is None:
            return
        name, args, kwargs = request
        try:
            result = namespace[name](*args, **kwargs)
        except BaseException as exc:  # noqa: BLE001
            send(replies, ("raised", type(exc).__name__, describe(exc)))
            continue
        try:
            send(replies, ("value", result))
        except ValueError:
            send(replies, ("unplain", type(result).__name__))


# ---------------------------------------------------------------- judge side

class CandidateFailed(Exception):
    """The program's function raised, died, or returned something that is not a plain value."""


def make_proxy(name, calls, replies):
    def call(*args, **kwargs):
        try:
            send(calls, (name, args, kwargs))
        except (ValueError, OSError) as exc:
            raise CandidateFailed(f"cannot pass the arguments of {name}(): {exc}") from None
        reply = receive(replies)
        if reply is None:
            raise CandidateFailed(f"the program ended while running {name}() (an exit or a crash)")
        if reply[0] == "value":
            if not plain(reply[1]):
                raise CandidateFailed(f"{name}() returned a value of a non-builtin type")
            return reply[1]
        if reply[0] == "raised":
            kind = getattr(builtins, reply[1], None)
            # The program's own exception type, when it is an ordinary builtin one; never an exit.
            if isinstance(kind, type) and issubclass(kind, Exception) and kind.__module__ == "builtins":
                raise kind(reply[2])
            raise CandidateFailed(f"{name}() raised {reply[2]}")
        if reply[0] == "unplain":
            raise CandidateFailed(f"{name}() returned a {reply[1]}, not a plain value")
        raise CandidateFailed("protocol error")

    call.__name__ = name
    return call


def run_test(test, names, calls, replies):
    namespace = {"__name__": "__test__", "__builtins__": builtins}
    for name in names:
        namespace[name] = make_proxy(name, calls, replies)
    tree = ast.parse(test, "<test>", "exec")
    # A test that is one expression is asserted: `add(2, 3) == 5` must be True. A bare call such as
    # `check(add)` returning None is a statement whose asserts are inside it.
    if len(tree.body) == 1 and isinstance(tree.body[0], ast.Expr):
        value = eval(compile(ast.Expression(tree.body[0].value), "<test>", "eval"), namespace)
        if value is True or (value is None and isinstance(tree.body[0].value, ast.Call)):
            return True, "passed"
        return False, f"test expression evaluated to {value!r:.80}, not True"
    exec(compile(tree, "<test>", "exec"), namespace)
    return True, "passed"


def read_request():
    chunks = []
    while True:
        chunk = os.read(VERDICT_FD, 1 << 20)
        if not chunk:
            return json.loads(b"".join(chunks).decode("utf-8") or "{}")
        chunks.append(chunk)


def judge(pid, calls, replies):
    request = read_request()
    nonce = request.get("nonce", "")

    def verdict(ok, why):
        os.write(VERDICT_FD, (json.dumps({"nonce": nonce, "pass": ok, "why": why[:300]}) + "\n").encode("utf-8"))

    try:
        hello = receive(replies)
        if hello is None:
            verdict(False, "the program ended before it was loaded (an exit or a crash)")
        elif hello[0] == "load-error":
            verdict(False, f"the program raised while loading: {hello[1]}")
        else:
            verdict(*run_test(request["test"], hello[1], calls, replies))
    except AssertionError as exc:
        verdict(False, f"assertion failed{': ' + str(exc) if str(exc) else ''}")
    except BaseException as exc:  # noqa: BLE001 - any other way out of the test is a failure
        verdict(False, describe(exc))
    finally:
        try:
            os.kill(pid, 9)
        except OSError:
            pass
        os._exit(0)


def main():
    # Not dumpable: a process of the same user can neither ptrace this one nor open /proc/<pid>/fd/3
    # or /proc/<pid>/mem. Inherited by the candidate, which does not need to be traced either.
    ctypes.CDLL(None, use_errno=True).prctl(4, 0, 0, 0, 0)  # PR_SET_DUMPABLE = 4
    calls_r, calls_w = os.pipe()
    replies_r, replies_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(VERDICT_FD)
        os.close(calls_w)
        os.close(replies_r)
        sys.argv = ["main.py"]
        candidate(calls_r, replies_w)
        os._exit(0)
    os.close(calls_r)
    os.close(replies_w)
    judge(pid, calls_w, replies_r)


if __name__ == "__main__":
    main()
