"""Names inside a repository and of repositories: reject traversal, absolute paths and control characters."""

from __future__ import annotations

import re
import unicodedata

from valuechain.core.errors import ValidationError

MAX_PATH_LENGTH = 1000
_REPO_PART = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,95}$")


def check_file_path(path: str) -> str:
    """Return ``path`` if it is a safe relative POSIX path inside a repo, else raise ValidationError."""
    problem = _file_path_problem(path)
    if problem:
        raise ValidationError(f"invalid file name {path[:200]!r}: {problem}", details=[{"path": path[:200]}])
    return path


def _file_path_problem(path: str) -> str | None:
    if not path:
        return "empty"
    if len(path) > MAX_PATH_LENGTH:
        return f"longer than {MAX_PATH_LENGTH} characters"
    if any(unicodedata.category(ch) in ("Cc", "Cf", "Zl", "Zp") for ch in path):
        return "contains control characters"
    if path.startswith("/") or "\\" in path or re.match(r"^[A-Za-z]:", path):
        return "absolute paths and backslashes are not allowed"
    parts = path.split("/")
    if any(part in ("", ".", "..") for part in parts):
        return "empty, '.' or '..' path segments are not allowed"
    if parts[0] == ".git":
        return "the .git folder is reserved"
    return None


def check_repo_part(value: str, *, what: str) -> str:
    """Validate an organisation or repository name segment (HF repo id rules)."""
    if not _REPO_PART.match(value) or ".." in value or value.endswith((".git", ".")):
        raise ValidationError(
            f"invalid {what} {value[:100]!r}: use letters, digits, '-', '_' or '.', at most 96 characters"
        )
    return value
