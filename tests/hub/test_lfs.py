"""Signed LFS upload URLs: a wrong or malformed signature is refused as unauthenticated, never a 500."""

from __future__ import annotations

import pytest

from valuechain.core.errors import AuthenticationError
from valuechain.hub.lfs import UploadGrant, UrlSigner

GRANT = UploadGrant(repo_pk="rep_1", oid="a" * 64, size=3, expires=4102444800, by="key_1")


def test_the_signature_it_made_is_accepted() -> None:
    signer = UrlSigner("k" * 32)
    signer.check(GRANT, signer.sign(GRANT), now=0)


@pytest.mark.parametrize("signature", ["", "0" * 64, "é" * 64, "\udcff" * 3, "ß"])
def test_any_other_signature_is_refused(signature: str) -> None:
    with pytest.raises(AuthenticationError):
        UrlSigner("k" * 32).check(GRANT, signature, now=0)
