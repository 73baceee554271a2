"""``valuechain hub``: push and pull model repos, release them, and manage gated access."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from valuechain.cli import credentials
from valuechain.cli.context import Format, FormatOption, emit, err, out
from valuechain.cli.render import say
from valuechain.core.errors import AuthenticationError

if TYPE_CHECKING:
    from valuechain.hub.client import HubClient

app = typer.Typer(
    help="The Hugging Face-compatible hub: push, pull, release, gated access.", no_args_is_help=True
)

EndpointOption = typer.Option(
    None,
    "--endpoint",
    envvar="VALUECHAIN_HUB_ENDPOINT",
    help="Hub URL; default: <server>/hub, the server of VALUECHAIN_URL or `valuechain login`.",
)
TokenOption = typer.Option(
    None,
    "--token",
    help="A valuechain API key; default: VALUECHAIN_API_KEY, else the key `valuechain login` stored.",
)
RepoArgument = typer.Argument(..., help="<org>/<name>")


@contextmanager
def _client(endpoint: str | None, token: str | None) -> Iterator[HubClient]:
    """A hub client with the key resolved like every remote command; a 401 says how to log in."""
    from valuechain.hub.client import HubClient  # the hub package loads FastAPI: only when used

    remote = credentials.resolve(url=endpoint, key=token)
    if endpoint is None:
        remote = credentials.Remote(remote.url + "/hub", remote.key, remote.source)
    client = HubClient(remote.url, remote.key)
    try:
        yield client
    except AuthenticationError as exc:
        raise remote.unauthenticated(exc.message) from None
    finally:
        client.close()


def _progress() -> Progress:
    columns = (TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    return Progress(*columns, console=err, transient=False)


@app.command("push")
def push(
    folder: Path = typer.Argument(..., exists=True, file_okay=False, help="Folder to upload."),
    repo: str = typer.Option(..., "--repo", help="<org>/<name>; created (private) when missing."),
    message: str = typer.Option("Upload with valuechain", "--message", "-m", help="Commit message."),
    revision: str = typer.Option("main", "--revision", help="Branch to commit to."),
    public: bool = typer.Option(
        False, "--public", help="Create a missing repo as public (published; `release` needs a licence)."
    ),
    endpoint: str = EndpointOption,
    token: str = TokenOption,
    fmt: Format = FormatOption,
) -> None:
    """Upload a folder as one commit: small files inline, large ones through LFS."""
    from valuechain.hub.client import inline_operation, lfs_operation, scan_folder

    total = sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
    with _client(endpoint, token) as client, _progress() as bars:
        hashing = bars.add_task("hashing", total=total)
        files = scan_folder(folder, lambda n: bars.advance(hashing, n))
        client.ensure_repo(repo, private=not public)
        modes = client.upload_modes(repo, files, revision=revision)
        large = [f for f in files if modes.get(f.path) == "lfs"]
        uploading = bars.add_task("uploading", total=sum(f.size for f in large))
        client.upload_lfs(repo, large, lambda n: bars.advance(uploading, n))
        operations = [lfs_operation(f) if f in large else inline_operation(f) for f in files]
        commit = client.commit(repo, operations, message=message, revision=revision)
        status = client.release_status(repo)
    data = {"repo": repo, "commit": commit, "files": len(files), "lfs_files": len(large), "bytes": total}
    emit(data | {"release_status": status}, fmt, lambda d: _print_pushed(d, repo, commit))


def _print_pushed(data: dict[str, object], repo: str, commit: str) -> None:
    say(out, f"pushed {data['files']} files to {repo} @ {commit}")
    if str(data["release_status"]).startswith("published, not released"):  # say it where it is decided
        say(err, f"{repo} is {data['release_status']}")


@app.command("pull")
def pull(
    repo: str = RepoArgument,
    revision: str = typer.Option("main", "--revision", help="Branch, tag or commit."),
    target: Path = typer.Option(None, "--dir", help="Where to write the files; default: ./<name>."),
    endpoint: str = EndpointOption,
    token: str = TokenOption,
    fmt: Format = FormatOption,
) -> None:
    """Download every file of a revision (sha256-checked, written atomically)."""
    target = target or Path(repo.split("/")[-1])
    with _client(endpoint, token) as client:
        commit, files = client.snapshot(repo, revision)
        with _progress() as bars:
            task = bars.add_task(f"{repo}@{commit[:8]}", total=sum(int(f["size"]) for f in files))
            for entry in files:
                client.download(
                    repo, commit, entry["path"], target / entry["path"], lambda n: bars.advance(task, n)
                )
    data = {"repo": repo, "commit": commit, "files": len(files), "dir": str(target)}
    emit(data, fmt, lambda d: say(out, f"pulled {d['files']} files of {repo} @ {commit} into {target}"))


@app.command("accept")
def accept(repo: str = RepoArgument, endpoint: str = EndpointOption, token: str = TokenOption,
           fmt: Format = FormatOption) -> None:  # fmt: skip
    """Accept a gated repo's licence terms for your organisation."""
    with _client(endpoint, token) as client:
        data = client.post_json(f"/api/models/{repo}/accept")
    emit(data, fmt, lambda d: say(out, f"{repo}: access {d['status']} (terms: {d['terms']})"))


@app.command("grant")
def grant(
    repo: str = RepoArgument,
    org: str = typer.Argument(..., help="Organisation slug to grant (or reject)."),
    reject: bool = typer.Option(False, "--reject", help="Reject instead of granting."),
    endpoint: str = EndpointOption,
    token: str = TokenOption,
    fmt: Format = FormatOption,
) -> None:
    """As the provider, grant (or reject) an organisation's access to a gated repo."""
    status = "rejected" if reject else "accepted"
    with _client(endpoint, token) as client:
        data = client.post_json(
            f"/api/models/{repo}/user-access-request/handle", {"user": org, "status": status}
        )
    emit(data, fmt, lambda d: say(out, f"{repo}: {org} {status}"))


@app.command("release")
def release(
    repo: str = RepoArgument,
    gated: str = typer.Option(None, "--gated", help="auto (accept terms) or manual (you approve)."),
    endpoint: str = EndpointOption,
    token: str = TokenOption,
    fmt: Format = FormatOption,
) -> None:
    """Release the head of main as open weights (public, optionally gated; needs a licence)."""
    with _client(endpoint, token) as client:
        data = client.post_json(f"/api/models/{repo}/release", {"gated": gated})
    emit(data, fmt, lambda d: say(out, f"{repo} released as open weights (offer {d['offer_id']})"))


def register(app_: typer.Typer) -> None:
    app_.add_typer(app, name="hub")
