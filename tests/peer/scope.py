"""What of huggingface_hub's own test suite measures `/hub`: the one place that says what is out of scope and why.

The suite is the `tests/` directory of the pinned huggingface_hub source distribution on PyPI. A test is
*in scope* when it is collected from an in-scope module, is not excluded below, and talks to the hub (asks
for the `api`/`repo_factory` fixtures or sends at least one request to the served endpoint). Tests that never
reach the hub (client-side unit tests) pass or fail without us and are reported apart, not counted.
"""

from __future__ import annotations

from dataclasses import dataclass

HF_HUB_VERSION = "2.4.0"  # the client pinned in constraints.txt; the suite must match it

# Modules that exercise the repo, file and commit API the hub implements.
IN_SCOPE_MODULES = (
    "test_auth.py",
    "test_cache_layout.py",
    "test_commit_api.py",
    "test_commit_scheduler.py",
    "test_file_download.py",
    "test_hf_api.py",
    "test_hf_file_system.py",
    "test_hub_mixin.py",
    "test_hub_mixin_pytorch.py",
    "test_lfs.py",
    "test_repocard.py",
    "test_snapshot_download.py",
    "test_upload_pipeline.py",
)


@dataclass(frozen=True)
class Exclusion:
    """Tests left out of the measure: by pytest marker, or by a regular expression over the node id."""

    reason: str
    marker: str | None = None
    pattern: str | None = None


# Matched case-insensitively against the node id ("test_hf_api.py::TestClass::test_name[param]").
OUT_OF_SCOPE = (
    Exclusion(
        "huggingface.co-only: runs against the production Hub and its public models",
        marker="production",
    ),
    Exclusion("Xet storage: valuechain serves LFS only (docs/hub.md, Uploads and Xet)", marker="xet"),
    Exclusion("inference: not a hub feature", marker="inference"),
    Exclusion("needs the git-lfs binary and a git remote (RUN_GIT_LFS_TESTS)", marker="git_lfs"),
    Exclusion("datasets: the hub serves models only", pattern=r"dataset"),
    Exclusion(
        "datasets: the test (or its class's shared repo) is a dataset repo; the hub serves models only",
        pattern=r"::TestHfFileSystemRepositoryR[OW]::|::test_move_repo_normal_usage|"
        r"::test_create_repo_already_exists_but_no_write_permission_returns_correct_repo_id|"
        r"::test_create_tag_on_commit_oid|::test_auth_check_success|::TestHfApiPrivate::",
    ),
    Exclusion("spaces: the hub serves models only", pattern=r"space"),
    Exclusion(
        "discussions and pull requests: not implemented (refs/pr/*, create_pull_request)",
        pattern=r"discussion|pull_request|create_pr|_pr(_|\[|$)|refs/pr|::TestListGitCommits::|"
        r"::test_super_squash_history_on_special_ref",
    ),
    Exclusion("inference endpoints and catalog: not a hub feature", pattern=r"inference"),
    Exclusion("webhooks: not implemented", pattern=r"webhook"),
    Exclusion("collections: not implemented", pattern=r"collection"),
    Exclusion("buckets: not implemented", pattern=r"bucket"),
    Exclusion("Xet storage: valuechain serves LFS only", pattern=r"xet"),
    Exclusion(
        "huggingface.co-only: papers, activity, user and organisation profiles, likes, enterprise orgs",
        pattern=r"paper|activity|TestUserApi|_likes?\b|likers|enterprise|TestHfApiPublicProduction|"
        r"::test_create_repo_private_by_default|"
        r"::test_whoami_with_passing_token",  # the CI user's membership of the org valid_org_hub
    ),
)
