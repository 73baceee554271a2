"""``.gitattributes`` and ``.gitignore`` as the Hub uses them: the default ``.gitattributes`` of a new model
repo, which paths are LFS, and which paths preupload tells the client to leave out (``shouldIgnore``).

The Hub's preupload answers ``lfs`` for a path matched by a ``filter=lfs`` pattern of the revision's
``.gitattributes`` (or larger than the inline limit), so an 8-byte ``*.bin`` is an LFS file with its sha256
in ``siblings[].lfs`` and the tree. Patterns follow gitignore/wildmatch: without a ``/`` a pattern matches
the file name at any depth, with one it matches the path from the root (``**`` spans folders).
"""

from __future__ import annotations

import re
from functools import lru_cache

GITATTRIBUTES = ".gitattributes"
GITIGNORE = ".gitignore"

# The file huggingface.co writes into every new model repo.
_DEFAULT_LFS_PATTERNS = (
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*",
    "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
    "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar",
    "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
)  # fmt: skip
DEFAULT_GITATTRIBUTES = "".join(f"{p} filter=lfs diff=lfs merge=lfs -text\n" for p in _DEFAULT_LFS_PATTERNS)


def lfs_patterns(text: str) -> tuple[str, ...]:
    """The patterns a ``.gitattributes`` file routes through LFS (``filter=lfs``; ``-filter`` unsets)."""
    patterns: list[str] = []
    for line in text.splitlines():
        fields = line.split()
        if not fields or fields[0].startswith("#"):
            continue
        pattern, attributes = fields[0], fields[1:]
        if "filter=lfs" in attributes:
            patterns.append(pattern)
        elif "-filter" in attributes or "!filter" in attributes:
            patterns = [p for p in patterns if p != pattern]
    return tuple(patterns)


def is_lfs_path(path: str, patterns: tuple[str, ...]) -> bool:
    """Whether ``path`` is matched by one of ``patterns``."""
    name = path.rsplit("/", 1)[-1]
    return any(_compile(p).fullmatch(path if "/" in p.rstrip("/") else name) for p in patterns)


def is_ignored(path: str, gitignore: str) -> bool:
    """Whether a ``.gitignore`` excludes ``path`` (the last matching pattern wins; ``!`` re-includes)."""
    parts = path.split("/")
    candidates = ["/".join(parts[: i + 1]) for i in range(len(parts))]  # the path and its folders
    ignored = False
    for line in gitignore.splitlines():
        pattern = line.strip()
        if not pattern or pattern.startswith("#"):
            continue
        negate = pattern.startswith("!")
        pattern = pattern.removeprefix("!")
        only_folders = pattern.endswith("/")
        pattern = pattern.rstrip("/")
        anchored = "/" in pattern
        for index, candidate in enumerate(candidates):
            if only_folders and index == len(candidates) - 1:
                continue
            subject = candidate if anchored else candidate.rsplit("/", 1)[-1]
            if _compile(pattern).fullmatch(subject):
                ignored = not negate
                break
    return ignored


@lru_cache(maxsize=256)
def _compile(pattern: str) -> re.Pattern[str]:
    pattern = pattern.lstrip("/")
    out, i = [], 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out))
