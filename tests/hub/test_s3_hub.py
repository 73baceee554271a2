"""The hub over the S3 store: the same upload, commit and download tests as over the local disk, plus
Range edge cases of the streamed download and presigned redirects."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from fastapi.testclient import TestClient

from tests.hub.conftest import Orgs
from tests.hub.test_api import (  # the same tests, over S3 (this module's hub_settings)
    publish,
    test_lfs_hash_mismatch_and_cut_off_upload_publish_nothing,
    test_resolve_headers_and_range,
)
from tests.s3server import S3Server, s3_env
from valuechain.core.settings import Settings

__all__ = ["test_lfs_hash_mismatch_and_cut_off_upload_publish_nothing", "test_resolve_headers_and_range"]
CARD_SHA = hashlib.sha256(b"{}").hexdigest()


@pytest.fixture
def hub_settings(settings: Settings, s3_server: S3Server, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """The platform's test settings with the S3 store (credentials from the environment, as deployed)."""
    for name, value in s3_env(s3_server, s3_server.new_bucket()).items():
        monkeypatch.setenv(name, value)
    return Settings(home=settings.home, _env_file=None)  # type: ignore[call-arg]


def test_files_live_in_the_bucket_not_on_disk(
    hub: TestClient, orgs: Orgs, hub_settings: Settings, s3_server: S3Server
) -> None:
    publish(hub, orgs)
    assert not hub_settings.resolved_hub_blob_dir.exists()
    key = f"sha256/{CARD_SHA[:2]}/{CARD_SHA[2:4]}/{CARD_SHA}"
    assert s3_server.client().get_object(Bucket=hub_settings.s3_bucket, Key=key)["Body"].read() == b"{}"


def test_range_edge_cases(hub: TestClient, orgs: Orgs) -> None:
    publish(hub, orgs)
    url = "/hub/acme/tiny/resolve/main/README.md"
    whole = hub.get(url).content
    etag = hub.head(url).headers["etag"]
    tail = hub.get(url, headers={"range": "bytes=-5"})
    assert tail.status_code == 206 and tail.content == whole[-5:]
    assert tail.headers["content-range"] == f"bytes {len(whole) - 5}-{len(whole) - 1}/{len(whole)}"
    open_ended = hub.get(url, headers={"range": "bytes=10-"})
    assert open_ended.status_code == 206 and open_ended.content == whole[10:]
    past = hub.get(url, headers={"range": f"bytes={len(whole)}-"})
    assert past.status_code == 416 and past.headers["content-range"] == f"bytes */{len(whole)}"
    stale = hub.get(url, headers={"range": "bytes=0-3", "if-range": '"0000"'})
    assert stale.status_code == 200 and stale.content == whole
    fresh = hub.get(url, headers={"range": "bytes=0-3", "if-range": etag})
    assert fresh.status_code == 206 and fresh.content == whole[:4]
    several = hub.get(url, headers={"range": "bytes=0-1,4-5"})
    assert several.status_code == 200 and several.content == whole


def test_presigned_downloads_redirect_to_the_store(
    hub_settings: Settings, hub: TestClient, orgs: Orgs
) -> None:
    publish(hub, orgs)
    hub.app.state.settings = hub_settings.model_copy(update={"s3_presign_downloads": True})  # type: ignore[attr-defined]
    r = hub.get("/hub/acme/tiny/resolve/main/config.json", follow_redirects=False)
    assert r.status_code == 302 and r.headers["x-linked-etag"] == f'"{CARD_SHA}"'
    location = r.headers["location"]
    assert "X-Amz-Signature=" in location and CARD_SHA in location
    fetched = httpx.get(location, headers={"range": "bytes=0-0"})
    assert fetched.status_code == 206 and fetched.content == b"{"
