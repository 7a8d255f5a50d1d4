"""The fork server that runs inside the sandbox (standard library only, no rewardlab imports).

The host starts this file once per sandbox slot (inside bubblewrap, or as a plain subprocess in
the weaker ``process`` isolation) and sends it jobs over stdin as length-prefixed JSON.

Three kinds of process take part in a job, and only one of them ever runs candidate code:

* the **server** (this loop) receives jobs, enforces deadlines and output caps, and replies.
  It never runs candidate code.
* the **zygote** is forked from the server at start, *before* any job arrives, so its memory
  holds no program, test or result of any sample. For each job it forks a **candidate**
  process (through a waiter that puts it in fresh user, PID and mount namespaces with its own
  ``/tmp`` and ``/proc``, a seccomp filter, rlimits and no capabilities). The candidate reads
  its program from a pipe; it never sees the tests.
* the **judge** is forked from the server per job and runs the tests with the server's pristine
  builtins and modules. Every reference to a name the solution defines is a proxy: calling it
  sends the arguments, encoded by a data-only codec, to the candidate, which sends back the
  return value the same way. So the assertions, comparisons, builtins and imports the tests use
  all live in a process the candidate cannot reach; the candidate can only return data.

Jobs (``mode``):

* ``script``: run ``code`` as ``__main__`` with ``stdin``; report stdout, stderr, exit status.
* ``tests``: the judge runs ``prelude`` (trusted: a HumanEval prompt, MBPP imports), then each
  test source; instrumented asserts report ``begin``/``end`` events to the server.
* ``call``: the judge calls ``fn_name`` on each argument list in ``calls`` and reports the
  returned values (as JSON) for the host to compare.

This module is read as text by the host and executed with ``python -I -c``; it is also
importable for its pure helpers (the codec).
"""

import builtins
import contextlib
import ctypes
import decimal
import fractions
import io
import json
import os
import resource
import select
import signal
import socket
import struct
import sys
import time
import types

SANDBOX_UID = 65534
CLONE_NEWNS = 0x00020000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
MS_NOSUID, MS_NODEV, MS_NOEXEC, MS_REC, MS_PRIVATE = 2, 4, 8, 16384, 1 << 18
PR_SET_PDEATHSIG, PR_SET_DUMPABLE, PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP = 1, 4, 38, 22
SECCOMP_MODE_FILTER = 2
READ_CHUNK = 65536
MAX_FRAME = 8 << 20  # largest value (encoded) the candidate may send to the judge
MAX_DEPTH = 200

_libc = None
# Captured at import: nothing the candidate does can reach these in other processes, but in
# its own process the harness must not fall through into server code if os._exit is patched.
_exit = os._exit


def libc():
    global _libc
    if _libc is None:
        _libc = ctypes.CDLL(None, use_errno=True)
    return _libc


# -- framing ------------------------------------------------------------------------------------


def read_exact(fd, n):
    chunks = []
    while n:
        chunk = os.read(fd, min(n, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        n -= len(chunk)
    return b"".join(chunks)


def read_frame(fd, limit=None):
    """One length-prefixed frame's bytes; None on EOF; ValueError when longer than ``limit``."""
    head = read_exact(fd, 4)
    if head is None:
        return None
    size = struct.unpack(">I", head)[0]
    if limit is not None and size > limit:
        raise ValueError(f"a message of {size} bytes is over the {limit}-byte limit")
    return read_exact(fd, size)


def read_message(fd):
    body = read_frame(fd)
    return None if body is None else json.loads(body)


def write_frame(fd, data):
    data = struct.pack(">I", len(data)) + data
    while data:
        data = data[os.write(fd, data):]


def write_message(fd, obj):
    write_frame(fd, json.dumps(obj).encode())


# -- the data-only codec --------------------------------------------------------------------------
#
# Values travel as JSON where JSON is exact (None, bool, small int, float, str) and as tagged
# lists otherwise: ["l", ...] list, ["t", ...] tuple, ["S", ...] set, ["F", ...] frozenset,
# ["d", k, v, ...] dict, ["i", hex] big int, ["c", re, im] complex, ["y", hex] bytes,
# ["Q", num, den] Fraction, ["D", text] Decimal, ["r", id, type] an object that stays in the
# candidate's process (a handle), ["cb", id] a judge-side callable. JSON objects are invalid.

SMALL_INT = 1 << 62


class CodecError(ValueError):
    """Data that the codec does not accept (malformed, too deep, not data)."""


def encode_value(value, refs=None, depth=0):
    """Encode ``value``; objects that are not data become handles in ``refs`` (or fail)."""
    kind = type(value)
    if value is None or kind is bool or kind is str or kind is float:
        return value
    if kind is int:
        return value if -SMALL_INT < value < SMALL_INT else ["i", format(value, "x")]
    if depth > MAX_DEPTH:
        raise CodecError("the value is nested too deeply")
    if kind is list or kind is tuple:
        tag = "l" if kind is list else "t"
        return [tag, *(encode_value(v, refs, depth + 1) for v in value)]
    if kind is dict:
        out = ["d"]
        for k, v in value.items():
            out.append(encode_value(k, refs, depth + 1))
            out.append(encode_value(v, refs, depth + 1))
        return out
    if kind is set or kind is frozenset:
        return ["S" if kind is set else "F", *(encode_value(v, refs, depth + 1) for v in value)]
    if kind is complex:
        return ["c", value.real, value.imag]
    if kind is bytes or kind is bytearray:
        return ["y", bytes(value).hex()]
    if kind is fractions.Fraction:
        return ["Q", encode_value(value.numerator), encode_value(value.denominator)]
    if kind is decimal.Decimal:
        return ["D", str(value)]
    # Subclasses of builtin data (namedtuple, OrderedDict, Counter, IntEnum, str subclasses)
    # travel as their builtin base value: the judge compares plain data, never their methods.
    for base, convert in ((bool, bool), (int, int.__index__), (float, float.__float__),
                          (str, str.__str__), (tuple, tuple), (list, list), (dict, dict),
                          (frozenset, frozenset), (set, set)):
        if isinstance(value, base):
            return encode_value(convert(value), refs, depth)
    if refs is None:
        raise CodecError(f"an object of type {kind.__qualname__} is not data")
    refs.append(value)
    return ["r", len(refs) - 1, f"{getattr(kind, '__module__', '?')}.{kind.__qualname__}"]


def decode_value(tree, make_ref=None, depth=0):
    """Decode a tree from :func:`encode_value`; anything unexpected raises :class:`CodecError`."""
    kind = type(tree)
    if tree is None or kind is bool or kind is str or kind is float:
        return tree
    if kind is int:
        if not -SMALL_INT < tree < SMALL_INT:
            raise CodecError("a plain integer out of range")
        return tree
    if kind is not list or not tree or type(tree[0]) is not str or depth > MAX_DEPTH:
        raise CodecError(f"malformed value of type {kind.__name__}")
    tag, rest = tree[0], tree[1:]
    items = None
    if tag in ("l", "t", "S", "F", "d"):
        items = [decode_value(v, make_ref, depth + 1) for v in rest]
    try:
        if tag == "l":
            return items
        if tag == "t":
            return tuple(items)
        if tag == "S":
            return set(items)
        if tag == "F":
            return frozenset(items)
        if tag == "d":
            if len(items) % 2:
                raise CodecError("a dict with an odd number of items")
            return dict(zip(items[::2], items[1::2], strict=True))
        if tag == "i" and len(rest) == 1 and type(rest[0]) is str:
            return int(rest[0], 16)
        if tag == "c" and len(rest) == 2 and all(type(v) in (int, float) for v in rest):
            return complex(rest[0], rest[1])
        if tag == "y" and len(rest) == 1 and type(rest[0]) is str:
            return bytes.fromhex(rest[0])
        if tag == "Q" and len(rest) == 2:
            num, den = (decode_value(v, None, depth + 1) for v in rest)
            if type(num) is not int or type(den) is not int:
                raise CodecError("a malformed fraction")
            return fractions.Fraction(num, den)
        if tag == "D" and len(rest) == 1 and type(rest[0]) is str and len(rest[0]) < 10000:
            return decimal.Decimal(rest[0])
    except CodecError:
        raise
    except Exception as exc:  # unhashable set members, bad hex, zero denominators...
        raise CodecError(f"malformed {tag!r} value: {type(exc).__name__}") from None
    if tag in ("r", "cb") and make_ref is not None and rest and type(rest[0]) is int:
        return make_ref(tag, rest)
    raise CodecError(f"unknown value tag {tag!r}")


# -- the candidate process (runs untrusted code; nothing it does decides a verdict) -------------

SOLUTION_FILE = "solution.py"
SOLUTION_MODULE = "solution"


def describe_error(exc):
    kind = type(exc)
    try:
        message = str(exc)
    except BaseException:
        message = "<unprintable>"
    name = kind.__name__ if isinstance(kind.__name__, str) else "Exception"
    text = f"{name}: {message}" if message else name
    return text[:2000]


def builtin_exception_name(exc):
    """The name of the builtin exception class ``exc`` is (or derives from), for the judge."""
    for klass in type(exc).__mro__:
        if getattr(builtins, getattr(klass, "__name__", ""), None) is klass:
            return klass.__name__
    return "Exception"


def candidate_main(job, fds):
    """Run the solution and answer the judge's requests; never returns.

    In ``script`` mode the program is simply run. This code runs in the candidate's process
    and is as untrusted as the program itself: it only encodes what the program returns.
    """
    code_r, req_r, resp_w = fds
    source = read_frame(code_r)
    os.close(code_r)
    source = (source or b"").decode("utf-8", "replace")
    script = job["mode"] == "script"
    # Programs run as __main__ in scripts; under tests they are a module named "solution",
    # so a response's own `if __name__ == "__main__":` demo block (often reading stdin) idles.
    main = types.ModuleType("__main__" if script else SOLUTION_MODULE)
    main.__dict__["__builtins__"] = builtins
    sys.modules["__main__"] = sys.modules[main.__name__] = main
    sys.argv = ["solution.py"]
    refs = []

    def reply(obj):
        try:
            write_frame(resp_w, json.dumps(obj).encode())
        except (OSError, TypeError, ValueError):
            _exit(0)

    load = {"event": "load", "ok": True}
    try:
        exec(compile(source, SOLUTION_FILE, "exec"), main.__dict__)
    except SystemExit as exc:
        load = {"event": "load", "ok": False,
                "error": f"the solution exited while loading (code {exc.code!r})",
                "exit_code": exit_status(exc)}
    except BaseException as exc:
        load = {"event": "load", "ok": False, "error": describe_error(exc)}
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
    if script:
        flush_std()
        _exit(load.get("exit_code", 0 if load["ok"] else 1))
    reply(load)
    if not load["ok"]:
        flush_std()
        _exit(0)
    scope = main.__dict__

    def make_callback(tag, rest):
        if tag != "cb":
            return refs[rest[0]]

        def callback(*args):
            reply({"callback": rest[0], "args": [encode_value(a, refs) for a in args]})
            answer = read_frame(req_r)
            if answer is None:
                _exit(0)
            answer = json.loads(answer)
            if not answer.get("ok"):
                raise RuntimeError(answer.get("error", "the test's callback failed"))
            return decode_value(answer["value"], make_callback)
        return callback

    while True:
        frame = read_frame(req_r)
        if frame is None:
            flush_std()
            _exit(0)
        request = json.loads(frame)
        op = request.get("op")
        try:
            if op == "get":
                values = []
                for name in request["names"]:
                    if name in scope:
                        values.append(encode_value(scope[name], refs))
                    else:
                        values.append(["missing"])
                reply({"ok": True, "values": values})
                continue
            target = refs[request["ref"]]
            if op == "call":
                args = [decode_value(a, make_callback) for a in request["args"]]
                kwargs = {k: decode_value(v, make_callback) for k, v in request["kwargs"]}
                value = target(*args, **kwargs)
                # Arguments the program mutated in place travel back to the judge.
                after = [encode_value(a, refs) if type(a) in (list, dict, set) else None
                         for a in args]
                reply({"ok": True, "value": encode_value(value, refs), "after": after})
                continue
            if op == "getattr":
                value = getattr(target, request["name"])
            elif op == "iter":
                value = list(target)
            elif op == "len":
                value = len(target)
            elif op == "str":
                value = str(target)
            elif op == "bool":
                value = bool(target)
            elif op == "compare":
                import operator

                how = request["how"]
                if how not in ("eq", "ne", "lt", "le", "gt", "ge"):
                    raise ValueError(f"unknown comparison {how!r}")
                value = getattr(operator, how)(target, refs[request["other"]])
            elif op == "getitem":
                value = target[decode_value(request["key"], make_callback)]
            elif op == "contains":
                value = decode_value(request["key"], make_callback) in target
            else:
                raise ValueError(f"unknown request {op!r}")
            reply({"ok": True, "value": encode_value(value, refs)})
        except BaseException as exc:
            reply({"ok": False, "error": describe_error(exc),
                   "type": builtin_exception_name(exc)})


def exit_status(exc):
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    with contextlib.suppress(Exception):
        sys.stderr.write(str(code) + "\n")
    return 1


def flush_std():
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BaseException):
            stream.flush()


# -- the judge process (trusted: runs only the tests, never candidate code) ---------------------


class HackDetected(AssertionError):
    """A test compared or truth-tested an object that lives in the candidate's process."""


class CandidateGone(Exception):
    """The candidate's process ended (or broke the protocol) before answering."""


class ProtocolViolation(CandidateGone):
    """The candidate sent something that is not a well-formed answer."""


class Channel:
    """The judge's end of the request/reply pipes to the candidate."""

    def __init__(self, req_w, resp_r, callbacks):
        self.req_w, self.resp_r, self.callbacks = req_w, resp_r, callbacks
        self.gone = None
        self.handles = 0

    def request(self, message, sent=False):
        if self.gone:
            raise CandidateGone(self.gone)
        try:
            if not sent:
                write_frame(self.req_w, json.dumps(message).encode())
            while True:
                frame = read_frame(self.resp_r, MAX_FRAME)
                if frame is None:
                    self.gone = "the program ended before answering"
                    raise CandidateGone(self.gone)
                answer = json.loads(frame)
                if type(answer) is not dict:
                    raise CodecError("an answer that is not a message")
                if "callback" not in answer:
                    return answer
                self.run_callback(answer)
        except CandidateGone:
            raise
        except (OSError, ValueError, RecursionError) as exc:  # codec/JSON errors, huge frames
            self.gone = f"the program broke the result protocol ({describe_error(exc)})"
            raise ProtocolViolation(self.gone) from None

    def run_callback(self, answer):
        index, args = answer.get("callback"), answer.get("args")
        if type(index) is not int or not 0 <= index < len(self.callbacks) or type(args) is not list:
            raise CodecError("a malformed callback request")
        fn = self.callbacks[index]
        try:
            value = fn(*[self.decode(a) for a in answer["args"]])
            reply = {"ok": True, "value": self.encode(value)}
        except (CandidateGone, HackDetected):
            raise
        except Exception as exc:
            reply = {"ok": False, "error": describe_error(exc)}
        write_frame(self.req_w, json.dumps(reply).encode())

    def encode(self, value):
        return encode_judge_value(value, self.callbacks)

    def decode(self, tree):
        return decode_value(tree, self.make_ref)

    def make_ref(self, tag, rest):
        if tag != "r" or len(rest) != 2 or type(rest[1]) is not str:
            raise CodecError("a malformed handle")
        self.handles += 1
        return Remote(self, rest[0], rest[1][:200])

    def value_of(self, answer):
        if type(answer) is not dict:
            raise ProtocolViolation("a malformed answer")
        if not answer.get("ok"):
            raise candidate_exception(answer)
        try:
            return self.decode(answer.get("value"))
        except CodecError as exc:
            self.gone = f"the program broke the result protocol ({exc})"
            raise ProtocolViolation(self.gone) from None


def encode_judge_value(value, callbacks):
    """Encode an argument in the judge: test callables become callbacks, handles their id."""
    if isinstance(value, Remote):
        return ["r", value._rl_id, value._rl_type]
    kind = type(value)
    if kind in (list, tuple):
        return ["l" if kind is list else "t", *(encode_judge_value(v, callbacks)
                                                for v in value)]
    if kind is dict:
        out = ["d"]
        for k, v in value.items():
            out += [encode_judge_value(k, callbacks), encode_judge_value(v, callbacks)]
        return out
    if kind in (set, frozenset):
        return ["S" if kind is set else "F", *(encode_judge_value(v, callbacks)
                                               for v in value)]
    if callable(value):
        callbacks.append(value)
        return ["cb", len(callbacks) - 1]
    return encode_value(value)


class CandidateError(Exception):
    """The program raised an exception that is not a builtin one."""


def candidate_exception(answer):
    name = answer.get("type")
    message = str(answer.get("error", "the program failed"))[:2000]
    klass = getattr(builtins, name, None) if isinstance(name, str) else None
    if isinstance(klass, type) and issubclass(klass, Exception) and not issubclass(
            klass, (HackDetected,)):
        with contextlib.suppress(Exception):
            return klass(message)
    return CandidateError(message)


class Remote:
    """An object that lives in the candidate's process; the judge only calls into it.

    Comparing it with plain data, or hashing it, is refused: the verdict compares plain data
    only, so an object built to equal everything cannot take part in it.
    """

    __slots__ = ("_rl_channel", "_rl_id", "_rl_type")

    def __init__(self, channel, ident, type_name):
        object.__setattr__(self, "_rl_channel", channel)
        object.__setattr__(self, "_rl_id", ident)
        object.__setattr__(self, "_rl_type", type_name)

    def _rl_ask(self, op, **extra):
        channel = self._rl_channel
        return channel.value_of(channel.request({"op": op, "ref": self._rl_id, **extra}))

    def __call__(self, *args, **kwargs):
        channel = self._rl_channel
        answer = channel.request({
            "op": "call", "ref": self._rl_id, "args": [channel.encode(a) for a in args],
            "kwargs": [[str(k), channel.encode(v)] for k, v in kwargs.items()]})
        value = channel.value_of(answer)
        after = answer.get("after")
        if type(after) is list and len(after) == len(args):
            for arg, new in zip(args, after, strict=True):
                if new is not None and type(arg) in (list, dict, set):
                    try:
                        write_back(arg, channel.decode(new))
                    except CodecError as exc:
                        channel.gone = f"the program broke the result protocol ({exc})"
                        raise ProtocolViolation(channel.gone) from None
        return value

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        return self._rl_ask("getattr", name=name)

    def __iter__(self):
        return iter(self._rl_ask("iter"))

    def __len__(self):
        return self._rl_ask("len")

    def __getitem__(self, key):
        return self._rl_ask("getitem", key=self._rl_channel.encode(key))

    def __contains__(self, key):
        return self._rl_ask("contains", key=self._rl_channel.encode(key))

    def __str__(self):
        return self._rl_ask("str")

    def __repr__(self):
        return f"<{self._rl_type} object of the solution>"

    def __bool__(self):
        # Asking the object its truth gives it no more power than returning True or False:
        # only comparisons (which could claim equality with an unknown expected value) are
        # refused.
        value = self._rl_ask("bool")
        if type(value) is not bool:
            raise ProtocolViolation("a truth value that is not a bool")
        return value

    def _rl_compare(self, other, how):
        if not isinstance(other, Remote) or other._rl_channel is not self._rl_channel:
            raise HackDetected(f"a test compared an object of type {self._rl_type} (defined by "
                               "the solution) with plain data; only plain data can pass a test")
        # Two of the solution's own objects (``origin() == Point(0, 0)``): the expected value
        # is itself the solution's, so its own comparison decides, as it would in Python.
        value = self._rl_ask("compare", how=how, other=other._rl_id)
        if type(value) is not bool:
            raise HackDetected(f"comparing {self._rl_type} objects returned a non-bool")
        return value

    def __eq__(self, other):
        return self._rl_compare(other, "eq")

    def __ne__(self, other):
        return self._rl_compare(other, "ne")

    def __lt__(self, other):
        return self._rl_compare(other, "lt")

    def __le__(self, other):
        return self._rl_compare(other, "le")

    def __gt__(self, other):
        return self._rl_compare(other, "gt")

    def __ge__(self, other):
        return self._rl_compare(other, "ge")

    def __hash__(self):
        raise TypeError(f"an object of type {self._rl_type} (defined by the solution) "
                        "cannot be hashed by the tests")


def write_back(arg, new):
    if type(arg) is not type(new):
        return
    if type(arg) is list:
        arg[:] = new
    else:
        arg.clear()
        arg.update(new)


def judge_main(job, fds):
    """Run the tests (trusted sources only) against proxies of the candidate; never returns."""
    req_w, resp_r, events_w = fds
    callbacks = []
    channel = Channel(req_w, resp_r, callbacks)

    def emit(event):
        write_frame(events_w, json.dumps(event).encode())

    exit_code = 0
    names = (list(job.get("names") or []) if job["mode"] != "call"
             else [job.get("fn_name") or "", "Solution"])
    try:
        # Ask for the names right away: the candidate answers once it has loaded, so this
        # saves a round trip per sample.
        with contextlib.suppress(OSError):
            write_frame(req_w, json.dumps({"op": "get", "names": names}).encode())
        # The candidate's first message says whether the program loaded.
        try:
            frame = read_frame(resp_r, MAX_FRAME)
            load = json.loads(frame) if frame is not None else {
                "event": "load", "ok": False,
                "error": "the program ended before it finished loading"}
        except ValueError:
            load = None
        if type(load) is not dict or load.get("event") != "load":
            emit({"event": "load", "ok": False, "protocol": True,
                  "error": "the program broke the result protocol while loading"})
            emit({"event": "finished"})
            _exit(0)
        emit({"event": "load", "ok": bool(load.get("ok")),
              **({} if load.get("ok") else {"error": str(load.get("error"))[:2000]})})
        if not load.get("ok"):
            emit({"event": "finished"})
            _exit(0)
        try:
            solution = fetch_names(channel, names, sent=True)
        except CandidateGone as exc:
            emit({"event": "error", "where": "setup", "error": describe_error(exc)})
            solution = None
        if solution is not None and job["mode"] == "call":
            judge_calls(job, solution, emit)
        elif solution is not None:
            judge_tests(job, solution, emit)
        if channel.gone:
            emit({"event": "candidate_gone", "error": channel.gone,
                  "protocol": channel.gone.startswith("the program broke")})
        emit({"event": "finished", "handles": channel.handles})
    except BaseException as exc:
        with contextlib.suppress(BaseException):
            emit({"event": "judge_error", "error": describe_error(exc)})
        exit_code = 3
    _exit(exit_code)


def fetch_names(channel, names, sent=False):
    """Proxies (or data) for the names the tests use and the solution defines."""
    answer = channel.request({"op": "get", "names": names}, sent=sent)
    values = answer.get("values") if type(answer) is dict else None
    if type(values) is not list or len(values) != len(names):
        raise ProtocolViolation("a malformed answer to a name lookup")
    out = {}
    for name, tree in zip(names, values, strict=True):
        if tree == ["missing"]:
            continue
        try:
            value = channel.decode(tree)
        except CodecError as exc:
            raise ProtocolViolation(str(exc)) from None
        if name in sys.stdlib_module_names or (
                isinstance(value, Remote) and value._rl_type == "builtins.module"):
            # A module the tests use by name is the judge's own import, never the solution's
            # (possibly fake or patched) object of that name.
            with contextlib.suppress(ImportError, ValueError):
                value = __import__(name)
        out[name] = value
    return out


def judge_tests(job, solution, emit):
    def rl_begin(index):
        emit({"event": "begin", "test": index})

    def rl_end(index, error=None):
        event = {"event": "end", "test": index, "passed": error is None}
        if error is not None:
            event["error"] = describe_error(error)
            event["hack"] = isinstance(error, HackDetected)
            event["gone"] = isinstance(error, CandidateGone)
        emit(event)

    scope = {"__name__": "__tests__", "__builtins__": builtins,
             "_rlbegin": rl_begin, "_rlend": rl_end}
    # The trusted prelude (prompt helpers, test imports) runs after the solution's names are
    # in place, so a solution that redefines a helper the tests use changes nothing; only the
    # names under test (``solution_wins``, e.g. HumanEval's entry point, which the prompt
    # declares with an empty body) are the solution's again afterwards.
    scope.update(solution)
    for name, source in [("prelude", job.get("prelude") or "")] + [
            (f"test {i}", src) for i, src in enumerate(job.get("tests", []))]:
        if source:
            try:
                exec(compile(source, f"<{name}>", "exec"), scope)
            except BaseException as exc:  # a crash outside an assert fails the rest of it
                emit({"event": "prelude_error" if name == "prelude" else "error",
                      "where": name, "error": describe_error(exc)})
        if name == "prelude":
            for key in job.get("solution_wins") or ():
                if key in solution:
                    scope[key] = solution[key]


def judge_calls(job, found, emit):
    name = job.get("fn_name") or ""
    fn = found.get(name)
    if fn is None and isinstance(found.get("Solution"), Remote):
        with contextlib.suppress(Exception):
            fn = getattr(found["Solution"](), name)
    for i, args in enumerate(job.get("calls", [])):
        emit({"event": "begin", "test": i})
        try:
            if fn is None:
                raise NameError(f"no function named {name!r}")
            value = fn(*args)
            if isinstance(value, Remote):
                raise HackDetected(f"returned an object of type {value._rl_type}")
            encoded = json.loads(json.dumps(value, allow_nan=True))
        except BaseException as exc:
            event = {"event": "end", "test": i, "passed": False, "error": describe_error(exc),
                     "hack": isinstance(exc, HackDetected),
                     "gone": isinstance(exc, CandidateGone)}
        else:
            event = {"event": "end", "test": i, "value": encoded}
        emit(event)


# -- isolation of the candidate -----------------------------------------------------------------


def set_limits(limits):
    pairs = {
        "cpu_s": (resource.RLIMIT_CPU, lambda v: (int(v), int(v) + 1)),
        "memory_mb": (resource.RLIMIT_AS, lambda v: (v * 1024 * 1024,) * 2),
        "processes": (resource.RLIMIT_NPROC, lambda v: (v, v)),
        "file_size_mb": (resource.RLIMIT_FSIZE, lambda v: (v * 1024 * 1024,) * 2),
        "open_files": (resource.RLIMIT_NOFILE, lambda v: (v, v)),
    }
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    for key, (which, make) in pairs.items():
        value = limits.get(key)
        if value:
            resource.setrlimit(which, make(value))


def _exit_on_signal(signum, frame):
    flush_std()
    _exit(128 + signum)


def enter_private_namespaces():
    """Own user+PID+mount namespaces. Returns True on success."""
    uid, gid = os.getuid(), os.getgid()
    lib = libc()
    lib.prctl(PR_SET_DUMPABLE, 1, 0, 0, 0)  # needed to write our own id maps
    try:
        if lib.unshare(CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNS) != 0:
            return False
        for path, text in (("/proc/self/setgroups", "deny"),
                           ("/proc/self/uid_map", f"{uid} {uid} 1"),
                           ("/proc/self/gid_map", f"{gid} {gid} 1")):
            with open(path, "w") as f:
                f.write(text)
        return True
    finally:
        # Nothing may read this process's memory or /proc files from now on.
        lib.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def mount_private_fs(work_size_mb):
    """A fresh tmpfs on /tmp, and an empty /proc.

    The sandbox's /proc shows the server and the judge (the kernel refuses a fresh procfs
    here because bubblewrap covers parts of the outer one), so the sample gets none at all.
    """
    lib = libc()
    if lib.mount(None, b"/", None, MS_REC | MS_PRIVATE, None) != 0:
        return False
    options = f"size={int(work_size_mb)}m,mode=1777".encode()
    if lib.mount(b"tmpfs", b"/tmp", b"tmpfs", MS_NOSUID | MS_NODEV, options) != 0:
        return False
    return lib.mount(b"tmpfs", b"/proc", b"tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                     b"size=64k,mode=555") == 0


class _CapHeader(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _CapData(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32),
                ("inheritable", ctypes.c_uint32)]


def drop_capabilities():
    """Drop every capability (the sample is 'root' of its own user namespace otherwise)."""
    header = _CapHeader(0x20080522, 0)
    data = (_CapData * 2)()
    return libc().capset(ctypes.byref(header), data) == 0


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def load_seccomp(program):
    """Install a compiled seccomp BPF program (made on the host by libseccomp)."""
    if not program:
        return False
    lib = libc()
    if lib.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    buf = ctypes.create_string_buffer(program, len(program))
    prog = _SockFprog(len(program) // 8, ctypes.cast(buf, ctypes.c_void_p))
    return lib.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0


def candidate_process(job, fds, nested, seccomp_program, ctl=None):
    """The waiter forked by the zygote: isolate and run the candidate; never returns.

    With namespaces, this process only waits: the candidate runs in its forked child, which is
    PID 1 of a fresh PID namespace, so when it ends (or this waiter is killed) the kernel kills
    every process it left behind. A *spare* (``ctl`` given, ``job`` None) sets its namespaces
    up ahead of time and receives its job and descriptors through ``ctl`` when one comes.
    """
    try:
        os.setsid()
        libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        isolated = nested and enter_private_namespaces()
        if ctl is not None and not isolated:
            _exit(71)
        if isolated:
            alive_r, alive_w = os.pipe()
            sample = os.fork()
            if sample:
                os.close(alive_r)
                for fd in fds or ():
                    os.close(fd)
                if ctl is not None:
                    ctl.close()
                # The zygote ends the job with SIGUSR1: kill the candidate, then wait for it.
                # Its exit completes only once the kernel has killed and reaped every other
                # process of its PID namespace, so when this waiter exits nothing is left.
                signal.signal(signal.SIGUSR1, lambda *_: os.kill(sample, signal.SIGKILL))
                _, status = os.waitpid(sample, 0)
                _exit(os.WEXITSTATUS(status) if os.WIFEXITED(status)
                      else 128 + os.WTERMSIG(status))
            os.close(alive_w)
            os.setsid()  # its own process group: kill(0) must not reach the waiter
            libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            # getppid() is 0 across the namespace boundary: ask the pipe whether the waiter
            # died before the prctl above took effect.
            if select.select([alive_r], [], [], 0)[0]:
                _exit(71)
            if ctl is not None:
                header, fds, _, _ = socket.recv_fds(ctl, 65536, 8)
                if not header:
                    _exit(0)
                ctl.close()
                job = json.loads(header)
            limits = job["limits"]
            if not mount_private_fs(limits.get("work_mb", 64)):
                _exit(71)
            # As PID 1, signals without a handler would be ignored: let the usual ones act.
            for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP, signal.SIGPIPE,
                        signal.SIGUSR1, signal.SIGUSR2, signal.SIGALRM, signal.SIGXCPU,
                        signal.SIGXFSZ):
                signal.signal(sig, _exit_on_signal)
        limits = job["limits"]
        code_r, stdin_r, stdout_w, stderr_w, req_r, resp_w = fds
        work = "/tmp/work" if isolated else job["work_dir"]
        os.makedirs(work, exist_ok=True)
        for target, fd in ((0, stdin_r), (1, stdout_w), (2, stderr_w), (3, code_r), (4, req_r),
                           (5, resp_w)):
            os.dup2(fd, target)
        os.closerange(6, 65536)
        os.chdir(work)
        os.environ.clear()
        os.environ.update({"PATH": "/usr/local/bin:/usr/bin:/bin", "HOME": work,
                           "LANG": "C.UTF-8", "TMPDIR": work})
        sys.stdin = io.TextIOWrapper(io.FileIO(0, "r"), encoding="utf-8", errors="replace")
        sys.stdout = io.TextIOWrapper(io.FileIO(1, "w"), encoding="utf-8", errors="replace",
                                      write_through=False)
        sys.stderr = io.TextIOWrapper(io.FileIO(2, "w"), encoding="utf-8", errors="replace",
                                      line_buffering=True)
        if not isolated:
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        set_limits(limits)
        if isolated:
            drop_capabilities()
        if seccomp_program and not load_seccomp(seccomp_program):
            _exit(72)  # never run a program without the filter the host asked for
        candidate_main(job, (3, 4, 5))
    except BaseException:
        with contextlib.suppress(BaseException):
            import traceback

            traceback.print_exc()
    _exit(70)


def make_spare(sock, seccomp_program):
    """Fork a candidate that sets up its namespaces now and waits for a job."""
    ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    pid = os.fork()
    if pid == 0:
        sock.close()
        ours.close()
        candidate_process(None, None, True, seccomp_program, ctl=theirs)
    theirs.close()
    return pid, ours


def hand_to_spare(spare, header, fds):
    """Give a job to the spare; False when it is gone (a sweep kills spares too)."""
    pid, ctl = spare
    try:
        socket.send_fds(ctl, [header], fds)
    except OSError:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
        return False
    finally:
        ctl.close()
    return True


def zygote(sock, nested, seccomp_program, sweep_all):
    """Fork candidates on request; this process never sees a program, test or result.

    With namespaces, the next sample's candidate is forked as soon as the previous one is gone
    (its namespaces set up, holding nothing until its job comes), taking that set-up off each
    sample's critical path.
    """
    spare = make_spare(sock, seccomp_program) if nested else None
    while True:
        try:
            header, fds, _, _ = socket.recv_fds(sock, 65536, 8)
        except OSError:
            _exit(0)
        if not header:
            _exit(0)
        job = json.loads(header)
        nested_job = nested and job.get("namespaces", True)
        work_dir = None
        if not nested_job:
            # Without a private tmpfs the work dir lives in the shared /tmp (the sandbox's
            # own tmpfs under bubblewrap, the host's in the weaker process isolation).
            import tempfile

            work_dir = job["work_dir"] = tempfile.mkdtemp(prefix="sample-")
        waiter = None
        if nested_job and spare is not None:
            if hand_to_spare(spare, header, fds):
                waiter = spare[0]
            spare = None
        if waiter is None:
            waiter = os.fork()
            if waiter == 0:
                sock.close()
                candidate_process(job, fds, nested_job, seccomp_program)
        for fd in fds:
            os.close(fd)
        pidfd = os.pidfd_open(waiter)
        socket.send_fds(sock, [b"spawned"], [pidfd])
        os.close(pidfd)
        # Wait for the server to say the job is over, then leave nothing of it running.
        if not sock.recv(64):
            _exit(0)
        clean = False
        if nested_job:
            with contextlib.suppress(OSError):
                os.kill(waiter, signal.SIGUSR1)
            waiter_fd = os.pidfd_open(waiter)
            clean = bool(select.select([waiter_fd], [], [], 2.0)[0])
            os.close(waiter_fd)
        if not clean:
            with contextlib.suppress(OSError):
                os.killpg(waiter, signal.SIGKILL)
            with contextlib.suppress(OSError):
                os.kill(waiter, signal.SIGKILL)
        _, status = os.waitpid(waiter, 0)
        # A waiter that exited by itself reaped its candidate, and with it the candidate's
        # whole PID namespace; otherwise sweep until none of the sample's processes is left.
        if sweep_all and not (clean and os.WIFEXITED(status)):
            sweep_uid()
        if work_dir is not None:
            clean_up(work_dir, wipe_tmp=job.get("sandboxed", False))
        with contextlib.suppress(ChildProcessError):
            while os.waitpid(-1, os.WNOHANG)[0]:
                pass
        if nested and spare is None:
            # Between samples, so that during one only its own waiter (and this zygote)
            # share the candidate's uid and process count.
            spare = make_spare(sock, seccomp_program)
        sock.sendall(struct.pack(">i", status))


def clean_up(work_dir, wipe_tmp):
    """Remove the sample's files (all of the sandbox's /tmp when samples share it)."""
    import shutil

    shutil.rmtree(work_dir, ignore_errors=True)
    if wipe_tmp:
        for name in os.listdir("/tmp"):
            path = os.path.join("/tmp", name)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):
                    os.unlink(path)


def sweep_uid():
    """Kill every process of this uid but the caller (a sample's leftovers without namespaces).

    This uid is the candidates' alone (the server and judges run as another one). ``kill(-1)``
    reports success while any process it may not signal exists, so look in /proc instead.
    """
    me, uid = os.getpid(), os.getuid()
    for _ in range(200):
        with contextlib.suppress(OSError):
            os.kill(-1, signal.SIGKILL)
        left = False
        for entry in os.listdir("/proc"):
            if entry.isdigit() and int(entry) != me:
                with contextlib.suppress(OSError, ValueError, IndexError):
                    with open(f"/proc/{entry}/status") as f:
                        line = next(x for x in f if x.startswith("Uid:"))
                    if int(line.split()[1]) == uid:
                        left = True
                        break
        if not left:
            return
        time.sleep(0.001)


# -- the server ---------------------------------------------------------------------------------


class Server:
    def __init__(self, sandboxed, seccomp_program, uids):
        self.sandboxed = sandboxed
        self.seccomp = seccomp_program
        self.nested = False
        self.zygote_sock = None
        self.zygote_pid = None
        self.status_pending = False
        self.uids = uids  # (judge uid, candidate uid) when running as root in bwrap

    def start_zygote(self):
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        probe_r, probe_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            parent.close()
            os.close(probe_r)
            if self.uids:
                set_uid(self.uids[1])
            libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)
            nested = self.sandboxed and probe_namespaces()
            os.write(probe_w, b"1" if nested else b"0")
            os.close(probe_w)
            zygote(child, nested, self.seccomp, sweep_all=bool(self.uids))
            _exit(0)
        child.close()
        os.close(probe_w)
        self.nested = read_exact(probe_r, 1) == b"1"
        os.close(probe_r)
        self.zygote_sock, self.zygote_pid = parent, pid

    def collect_status(self):
        self.status_pending = False
        raw = self.zygote_sock.recv(16)
        if len(raw) != 4:
            raise RuntimeError("the zygote stopped")
        return struct.unpack(">i", raw)[0]

    def run_job(self, job):
        if self.zygote_sock is None:
            self.start_zygote()
        try:
            if self.status_pending:
                self.collect_status()  # the previous sample is entirely gone from here on
            return self._run_job(job)
        except BaseException:
            self.stop_zygote()  # its state is unknown now: start afresh next time
            raise

    def stop_zygote(self):
        if self.zygote_sock is not None:
            self.zygote_sock.close()
            with contextlib.suppress(OSError):
                os.kill(self.zygote_pid, signal.SIGKILL)
            with contextlib.suppress(ChildProcessError):
                os.waitpid(self.zygote_pid, 0)
        self.zygote_sock = self.zygote_pid = None
        self.status_pending = False

    def _run_job(self, job):
        limits = job.setdefault("limits", {})
        max_out = int(limits.get("output_bytes", 1 << 20))
        script = job["mode"] == "script"
        nested = self.nested and job.get("namespaces", True)
        code_r, code_w = os.pipe()
        stdin_r, stdin_w = os.pipe()
        stdout_r, stdout_w = os.pipe()
        stderr_r, stderr_w = os.pipe()
        req_r, req_w = os.pipe()
        resp_r, resp_w = os.pipe()
        started = time.monotonic()
        header = {"mode": job["mode"], "limits": limits, "namespaces": nested,
                  "sandboxed": self.sandboxed}
        cand_fds = [code_r, stdin_r, stdout_w, stderr_w, req_r, resp_w]
        socket.send_fds(self.zygote_sock, [json.dumps(header).encode()], cand_fds)
        for fd in cand_fds:
            os.close(fd)
        judge_pid = judge_pidfd = events_r = None
        if not script:
            # Forked while the zygote forks the candidate: neither waits for the other.
            events_r, events_w = os.pipe()
            judge_pid = os.fork()
            if judge_pid == 0:
                with contextlib.suppress(BaseException):
                    self.zygote_sock.close()
                    for fd in (code_w, stdin_w, stdout_r, stderr_r, events_r):
                        with contextlib.suppress(OSError):
                            os.close(fd)
                    libc().prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
                    set_limits({k: v for k, v in limits.items()
                                if k in ("cpu_s", "memory_mb", "open_files")})
                    judge_main(job, (req_w, resp_r, events_w))
                _exit(4)
            os.close(events_w)
            judge_pidfd = os.pidfd_open(judge_pid)
        os.close(req_w)
        os.close(resp_r)
        # The program goes to the candidate through its own pipe (never through the zygote).
        try:
            os.set_blocking(code_w, True)
            write_frame(code_w, job.get("code", "").encode("utf-8", "replace"))
        except OSError:
            pass
        os.close(code_w)
        _, got, _, _ = socket.recv_fds(self.zygote_sock, 64, 1)
        cand_pidfd = got[0]
        outcome = self.watch(job, cand_pidfd, judge_pidfd, stdin_w, stdout_r, stderr_r, events_r,
                             max_out, started)
        if not outcome["cand_exited"] and any(
                e.get("event") == "candidate_gone" or e.get("gone")
                or (e.get("event") == "load" and not e.get("ok")) for e in outcome["events"]):
            # The judge saw the candidate end: give its waiter a moment to report how (a
            # seccomp kill shows as SIGSYS) before the zygote's kill would mask it.
            outcome["cand_exited"] = bool(select.select([cand_pidfd], [], [], 0.5)[0])
        # The job is over: the zygote kills the candidate's tree and reports its status.
        os.close(cand_pidfd)
        self.zygote_sock.sendall(b"done")
        status = 0
        if outcome["cand_exited"]:
            status = self.collect_status()
        else:
            # Still serving the judge: it is being killed, and how it ends does not matter.
            # The zygote's report (sent once every process of the sample is gone) is read
            # before the next job starts, so it need not delay this reply.
            self.status_pending = True
        judge_status = None
        if judge_pid is not None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(judge_pidfd, signal.SIGKILL)
            _, judge_status = os.waitpid(judge_pid, 0)
            os.close(judge_pidfd)
        outcome["wall_s"] = time.monotonic() - started
        outcome.update(describe_status(status, outcome["killed"], outcome.get("cand_exited")))
        outcome.pop("cand_exited", None)
        if judge_status is not None and outcome["killed"] is None and not (
                os.WIFEXITED(judge_status) and os.WEXITSTATUS(judge_status) == 0):
            outcome["judge_failed"] = True
        return outcome

    def watch(self, job, cand_pidfd, judge_pidfd, stdin_w, stdout_r, stderr_r, events_r,
              max_out, started):
        stdin_data = job.get("stdin", "").encode() if job["mode"] == "script" else b""
        os.set_blocking(stdin_w, False)
        buffers = {stdout_r: bytearray(), stderr_r: bytearray()}
        if events_r is not None:
            buffers[events_r] = bytearray()
        open_fds = set(buffers)
        writing = stdin_w
        if not stdin_data:
            os.close(stdin_w)
            writing = None
        deadline = started + float(job.get("timeout", 10.0))
        test_timeout = job.get("test_timeout")
        open_test, open_since = None, 0.0
        reason = None
        events = []
        cand_exited = False
        ev_pos = 0
        # Scripts end when the program ends; tests end when the judge ends.
        end_fd = cand_pidfd if judge_pidfd is None else judge_pidfd
        while not reason:
            now = time.monotonic()
            limit = deadline
            if open_test is not None and test_timeout:
                limit = min(limit, open_since + test_timeout)
            if now >= limit:
                reason = "timeout" if now >= deadline else "test_timeout"
                break
            watch = [*open_fds, end_fd]
            if judge_pidfd is not None and not cand_exited:
                watch.append(cand_pidfd)
            readable, writable, _ = select.select(watch, [writing] if writing is not None
                                                  else [], [], limit - now)
            done = end_fd in readable
            if cand_pidfd in readable:
                cand_exited = True
            if writable:
                try:
                    sent = os.write(writing, stdin_data[:READ_CHUNK])
                    stdin_data = stdin_data[sent:]
                except OSError:
                    stdin_data = b""
                if not stdin_data:
                    os.close(writing)
                    writing = None
            for fd in (list(open_fds) if done else readable):
                if fd not in open_fds:
                    continue
                chunk = read_available(fd, done)
                if not chunk:
                    open_fds.discard(fd)
                    continue
                buffers[fd] += chunk
                if fd == events_r:
                    ev_pos, new = split_frames(buffers[fd], ev_pos)
                    for event in new:
                        events.append(event)
                        kind = event.get("event") if isinstance(event, dict) else None
                        if kind == "begin":
                            open_test, open_since = event.get("test"), time.monotonic()
                        elif kind == "end":
                            open_test = None
                elif len(buffers[fd]) > max_out:
                    reason = "output_limit"
            if done:
                break
        if writing is not None:
            os.close(writing)
        for fd in buffers:
            os.close(fd)
        return {
            "stdout": bytes(buffers[stdout_r][:max_out]).decode("utf-8", "replace"),
            "stderr": bytes(buffers[stderr_r][-8192:]).decode("utf-8", "replace"),
            "events": events, "killed": reason, "open_test": open_test if reason else None,
            "cand_exited": cand_exited,
        }


def split_frames(buf, pos):
    events = []
    while len(buf) - pos >= 4:
        size = struct.unpack(">I", buf[pos:pos + 4])[0]
        if len(buf) - pos - 4 < size:
            break
        with contextlib.suppress(ValueError):
            events.append(json.loads(bytes(buf[pos + 4:pos + 4 + size])))
        pos += 4 + size
    return pos, events


def describe_status(status, killed, exited):
    """Exit code and signal of the candidate (both None when it was still serving the judge)."""
    if killed:
        return {"exit_code": None, "signal": "SIGKILL"}
    if not exited:
        return {"exit_code": None, "signal": None}
    if os.WIFSIGNALED(status):
        return {"exit_code": None, "signal": signal.Signals(os.WTERMSIG(status)).name}
    code = os.WEXITSTATUS(status)
    sig = None
    if code > 128:  # the waiter reports its candidate's death by signal N as 128 + N
        with contextlib.suppress(ValueError):
            sig = signal.Signals(code - 128).name
    return {"exit_code": code, "signal": sig}


def read_available(fd, drain):
    """One read, or (``drain``) everything already buffered in a non-blocking pipe."""
    if not drain:
        return os.read(fd, READ_CHUNK)
    os.set_blocking(fd, False)
    chunks = []
    try:
        while True:
            chunk = os.read(fd, READ_CHUNK)
            if not chunk:
                break
            chunks.append(chunk)
            if sum(map(len, chunks)) > 16 * READ_CHUNK:
                break
    except BlockingIOError:
        pass
    return b"".join(chunks)


def set_uid(uid):
    os.setgroups([])
    os.setresgid(uid, uid, uid)
    os.setresuid(uid, uid, uid)


def probe_namespaces():
    """Whether a forked child can enter private namespaces and mount /proc here."""
    pid = os.fork()
    if pid == 0:
        ok = False
        try:
            if enter_private_namespaces():
                inner = os.fork()
                if inner == 0:
                    _exit(0 if mount_private_fs(16) else 1)
                _, status = os.waitpid(inner, 0)
                ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
        except BaseException:
            ok = False
        _exit(0 if ok else 1)
    _, status = os.waitpid(pid, 0)
    return os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0


# Imported once here so each forked sample gets them for free (a fork shares them copy-on-write;
# samples cannot affect each other's copies).
PRELOAD = ("typing", "collections", "itertools", "functools", "math", "re", "string", "heapq",
           "bisect", "random", "statistics", "fractions", "decimal", "datetime", "hashlib",
           "copy", "dataclasses", "array", "json", "traceback", "unittest", "operator")


def preload():
    import importlib

    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)


def serve(sandboxed, seccomp_program, uids):
    """Answer jobs from stdin (fd 0) on stdout (fd 1) until stdin closes."""
    in_fd, out_fd = os.dup(0), os.dup(1)
    devnull = os.open(os.devnull, os.O_RDWR)
    os.dup2(devnull, 0)
    os.dup2(devnull, 1)
    if (sandboxed and os.getuid() != 0) or not sandboxed:
        uids = None
    preload()
    import gc

    gc.freeze()  # forked samples' collections skip (and so do not copy) the server's objects
    server = Server(sandboxed, seccomp_program, uids)
    server.start_zygote()  # before any job, and before this process drops root
    if uids:
        set_uid(uids[0])
    libc().prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)  # samples cannot read our memory or /proc files
    write_message(out_fd, {"ready": True, "uid": os.getuid(), "nested_namespaces": server.nested,
                           "pid": os.getpid(), "separate_uids": bool(uids),
                           "seccomp": bool(seccomp_program)})
    while True:
        job = read_message(in_fd)
        if job is None:
            return 0
        try:
            reply = server.run_job(job)
        except Exception as exc:  # report, never die on one bad job
            reply = {"server_error": describe_error(exc)}
        reply["nested_namespaces"] = server.nested and job.get("namespaces", True)
        write_message(out_fd, reply)


if __name__ == "__main__":
    # argv: --sandboxed|--process, seccomp BPF (hex or "-"), uids "judge:candidate" or "-",
    # then folders the host allowed programs to import from.
    _bpf = bytes.fromhex(sys.argv[2]) if sys.argv[2] != "-" else b""
    _uids = tuple(int(u) for u in sys.argv[3].split(":")) if sys.argv[3] != "-" else None
    sys.path.extend(sys.argv[4:])
    sys.exit(serve(sys.argv[1] == "--sandboxed", _bpf, _uids))
