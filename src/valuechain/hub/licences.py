"""Licences of repos: what a release needs (an SPDX id, or a named custom licence with its text).

As on the Hugging Face Hub, a public repo accepts commits without a licence; it is then *published, not
released*: the release action (and the open-weights offer it records) requires the licence (issue 15)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy.orm import Session

from valuechain.core.errors import ValidationError
from valuechain.hub.models import HubCommit, HubCommitFile
from valuechain.hub.repos import list_files

LICENCE_FILES = ("LICENSE", "LICENSE.md", "LICENSE.txt", "LICENCE", "LICENCE.md", "LICENCE.txt")
_SPDX_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+-]{0,99}$")


@dataclass(frozen=True)
class Licence:
    """The licence a commit is released under; ``file`` is where its text is served, if present."""

    id: str
    name: str | None
    file: HubCommitFile | None

    @property
    def label(self) -> str:
        return self.name if self.id == "other" and self.name else self.id


def find_licence(session: Session, commit: HubCommit) -> Licence | None:
    """The licence declared by the commit's model card, with its text file when the repo has one."""
    card = commit.card or {}
    licence_id = card.get("license")
    if not licence_id:
        return None
    files = {f.path: f for f in list_files(session, commit)}
    link = card.get("license_link")
    candidates = ([link] if isinstance(link, str) else []) + list(LICENCE_FILES)
    text_file = next((files[name] for name in candidates if name in files), None)
    return Licence(id=str(licence_id), name=card.get("license_name"), file=text_file)


_HINT = (
    "add `license: <SPDX id>` to the YAML front matter of README.md, or `license: other` with "
    "`license_name:` and the licence text in a LICENSE file"
)


def release_licence_problem(licence: Licence | None, *, repo_id: str) -> str | None:
    """Why ``licence`` cannot carry a public release (None when it can)."""
    if licence is None:
        return f"{repo_id} has no licence; releasing it requires one: {_HINT}"
    if licence.id == "other":
        if not licence.name or licence.file is None:
            return f"{repo_id}: a custom licence needs `license_name` and its text: {_HINT}"
    elif not _SPDX_ID.match(licence.id):
        return f"{repo_id}: {licence.id!r} is not an SPDX licence id: {_HINT}"
    return None


def release_licence(session: Session, commit: HubCommit, *, repo_id: str) -> Licence | None:
    """The commit's licence if it can carry a release, else None (a public repo may lack one: it is then
    published, not released)."""
    licence = find_licence(session, commit)
    return licence if release_licence_problem(licence, repo_id=repo_id) is None else None


def require_release_licence(session: Session, commit: HubCommit, *, repo_id: str) -> Licence:
    """Raise unless the commit carries a licence fit for a release (the release action and its offer)."""
    licence = find_licence(session, commit)
    problem = release_licence_problem(licence, repo_id=repo_id)
    if problem is not None or licence is None:
        raise ValidationError(problem or repo_id)
    return licence
