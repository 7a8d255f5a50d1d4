"""What a scoring run was, kept beside its output so that ``--resume`` never mixes runs.

``OUT.jsonl.run.json`` records the input file (path and a fingerprint of the input lines read
so far), the spec and the rewardlab version. It is rewritten (atomically) *before* each batch of
rows is appended, so it always covers at least the rows in the output, even after ``kill -9``.
On resume the input's first lines are fingerprinted again and everything must match; otherwise
the run is refused with a message naming what differs.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rewardlab.errors import RewardlabError

SIDECAR_SUFFIX = ".run.json"
_FORMAT = 1


class RunMismatch(RewardlabError, ValueError):
    """The existing output belongs to another run (input, spec or version), or cannot be
    checked; the message says what differs and how to start afresh."""


class InputFingerprint:
    """A running SHA-256 over the input's lines (each without its line ending, so a last line
    that later gets a newline still matches)."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, line: str) -> None:
        """Fold in one (non-blank) input line."""
        self._hash.update(line.rstrip("\r\n").encode("utf-8", "surrogatepass"))
        self._hash.update(b"\n")
        self.count += 1

    def digest(self) -> str:
        """The fingerprint of the lines added so far."""
        return self._hash.hexdigest()


def spec_fingerprint(spec: Any) -> str:
    """SHA-256 of a spec: of the file's bytes when ``spec`` names a file, else of its text."""
    text = str(spec)
    try:
        if len(text) < 4096 and Path(text).is_file():
            return hashlib.sha256(Path(text).read_bytes()).hexdigest()
    except OSError:
        pass
    return hashlib.sha256(json.dumps(spec, sort_keys=True, default=str).encode(
        "utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class RunIdentity:
    """The input, spec and version a run's rows come from."""

    input: str
    spec: str
    spec_sha256: str
    version: str

    @classmethod
    def of(cls, source: str | Path, spec: Any) -> RunIdentity:
        """The identity of scoring ``source`` with ``spec`` by this rewardlab."""
        from rewardlab import __version__

        return cls(str(Path(source).resolve()), str(spec)[:2000], spec_fingerprint(spec),
                   __version__)


class RunRecord:
    """The sidecar file of one output (``OUT.jsonl.run.json``)."""

    def __init__(self, output: str | Path, identity: RunIdentity) -> None:
        self.path = Path(str(output) + SIDECAR_SUFFIX)
        self.identity = identity

    def read(self) -> dict[str, Any] | None:
        """The recorded run, or ``None`` when there is no sidecar.

        Raises:
            RunMismatch: the sidecar exists but cannot be read.
        """
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise RunMismatch(f"{self.path}: the run record cannot be read ({exc}); start "
                              "afresh with --overwrite") from None
        if not isinstance(data, dict) or not isinstance(data.get("rows"), int):
            raise RunMismatch(f"{self.path}: not a rewardlab run record; start afresh with "
                              "--overwrite")
        return data

    def verify(self, done: int, lines: Iterable[str]) -> None:
        """Check that ``done`` existing rows came from this input, spec and version.

        ``lines`` are the current input's non-blank lines, in order.

        Raises:
            RunMismatch: naming what differs.
        """
        data = self.read()
        if data is None:
            if done:
                raise RunMismatch(
                    f"{self.path.name[:-len(SIDECAR_SUFFIX)]} has {done} rows but no run record "
                    f"({self.path.name}) saying which input and spec they came from; refusing to "
                    "resume. Start afresh with --overwrite")
            return
        me = self.identity
        problems = []
        if data.get("input") != me.input:
            problems.append(f"input was {data.get('input')!r}, now {me.input!r}")
        if data.get("spec_sha256") != me.spec_sha256:
            problems.append(f"spec was {data.get('spec')!r}, now {me.spec!r}")
        if data.get("version") != me.version:
            problems.append(f"written by rewardlab {data.get('version')}, this is {me.version}")
        recorded = data["rows"]
        if recorded < done:
            problems.append(f"the record covers {recorded} rows but the output has {done}")
        elif not problems:
            fingerprint = InputFingerprint()
            for line in lines:
                if fingerprint.count >= recorded:
                    break
                fingerprint.add(line)
            if fingerprint.count < recorded:
                problems.append(f"the input now has {fingerprint.count} lines, fewer than the "
                                f"{recorded} already read")
            elif fingerprint.digest() != data.get("input_sha256"):
                problems.append(f"the input's first {recorded} lines changed")
        if problems:
            raise RunMismatch("cannot resume: the output belongs to another run (" +
                              "; ".join(problems) + "). Start afresh with --overwrite")

    def commit(self, rows: int, input_sha256: str) -> None:
        """Record that the output will hold ``rows`` rows from input lines with this
        fingerprint (call before appending them)."""
        me = self.identity
        data = {"format": _FORMAT, "input": me.input, "input_sha256": input_sha256,
                "rows": rows, "spec": me.spec, "spec_sha256": me.spec_sha256,
                "version": me.version}
        tmp = self.path.with_name(self.path.name + ".tmp")
        tmp.write_text(json.dumps(data, ensure_ascii=True, indent=1) + "\n", encoding="utf-8")
        os.replace(tmp, self.path)

    def remove(self) -> None:
        """Forget the recorded run (a fresh run starts)."""
        self.path.unlink(missing_ok=True)
