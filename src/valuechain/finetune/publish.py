"""Publishing a fine-tune to the hub (issue 12): a repo of the customer, private unless asked, holding the
adapter GGUF and a model card generated from the job, made through the hub's own use cases.

The card's ``base_model`` names the fine-tuned registry model (relation ``adapter``), so the hub's lineage
records the repo as derived from it, and through it from the base with the job's measured compute; the
repo's model is a registry model like any repo's, private to the customer until it is made public.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import yaml

from valuechain.accounts.authz import Action
from valuechain.accounts.principal import Principal
from valuechain.core.audit import record_event
from valuechain.core.db import Database
from valuechain.core.errors import ConflictError
from valuechain.finetune import events
from valuechain.finetune.models import FineTuneJob
from valuechain.finetune.records import JobRecord
from valuechain.finetune.service import add_event, job_row
from valuechain.hub import service as hub
from valuechain.hub.commits import CommitRequest, FileChange, git_blob_oid, lfs_git_oid
from valuechain.hub.storage import BlobStore
from valuechain.registry.service import artifacts_of, resolve_ref

ADAPTER = "adapter.gguf"
#: what the trainer does (``training.py``): the card states it, as the derivation's data summary does
METHOD = "LoRA r=8, alpha=16 on the attention q_proj and v_proj; AdamW; loss on the last assistant message"


@dataclass(frozen=True, slots=True)
class Published:
    """Where a fine-tune was published."""

    repo_id: str
    url: str
    visibility: str
    commit_id: str
    adapter_sha256: str


@dataclass(frozen=True, slots=True)
class CardFacts:
    """What the model card says, all read from the job and the registry."""

    job: JobRecord
    repo_id: str
    org_slug: str
    provider_slug: str
    licence: str
    adapter_sha256: str
    adapter_size: int


def publish_job(
    db: Database,
    store: BlobStore,
    job_id: str,
    *,
    principal: Principal,
    public: bool = False,
    name: str | None = None,
    url: str,
) -> Published:
    """Create ``<org>/<name>`` on the hub with the adapter and a generated card; private by default."""
    with db.session() as session:
        # another organisation's job: 404, as a missing one
        row = job_row(session, job_id, principal=principal, action=Action.finetune_write)
        if row.status != "succeeded" or not row.fine_tuned_model:
            raise ConflictError(f"only a succeeded job can be published; this one is {row.status}")
        model, version = resolve_ref(session, row.fine_tuned_model, principal=principal)
        adapter = next(a for a in artifacts_of(session, version.id) if a.path == ADAPTER)
        facts = CardFacts(
            job=JobRecord.of(row),
            repo_id=f"{principal.org_slug}/{name or default_repo_name(row)}",
            org_slug=principal.org_slug,
            provider_slug=row.model.split("/", 1)[0],
            licence=model.licence,
            adapter_sha256=adapter.sha256,
            adapter_size=adapter.size,
        )
    namespace, repo_name = facts.repo_id.split("/", 1)
    repo = hub.create_repo(
        db,
        store,
        principal=principal,
        namespace=namespace,
        name=repo_name,
        visibility="public" if public else "private",
        url=url,
    )
    card = model_card(facts).encode()
    readme = store.put_bytes(card)
    request = CommitRequest(
        summary=f"Fine-tuning job {job_id}: adapter and model card",
        additions=[
            FileChange("README.md", readme.sha256, readme.size, git_blob_oid(card), is_lfs=False),
            FileChange(
                ADAPTER,
                facts.adapter_sha256,
                facts.adapter_size,
                lfs_git_oid(facts.adapter_sha256, facts.adapter_size),
                is_lfs=True,
            ),
        ],
    )
    try:
        commit = hub.commit_files(
            db, store, principal=principal, repo_id=repo.repo_id, branch="main", request=request
        )
    except Exception:  # no half-published repo: the card or the adapter was refused
        hub.delete_repo(db, principal=principal, repo_id=repo.repo_id)
        raise
    visibility = "public" if public else "private"
    with db.unit_of_work() as session:
        add_event(session, job_id, f"Published to the hub as {repo.repo_id} ({visibility})")
        record_event(
            session,
            actor=principal.actor,
            org_id=principal.org_id,
            action=events.job_publish,
            subject_type="fine_tuning_job",
            subject_id=job_id,
            after={"repo": repo.repo_id, "visibility": visibility, "commit": commit.id},
        )
    return Published(repo.repo_id, f"{url}/{repo.repo_id}", visibility, commit.id, facts.adapter_sha256)


def default_repo_name(job: FineTuneJob) -> str:
    """``<base name>-<suffix>-<job tail>``: a valid hub name, unique per job."""
    base = job.model.rsplit("/", 1)[-1]
    tail = job.id.split("_", 1)[-1][-8:].lower()
    parts = [base, job.suffix or "ft", tail]
    return re.sub(r"[^A-Za-z0-9._-]+", "-", "-".join(parts)).strip("-.")[:96]


def model_card(facts: CardFacts) -> str:
    """The README: Hub metadata (licence, ``base_model`` = the fine-tuned model) and the job's facts."""
    job = facts.job
    licence_meta: dict[str, object] = (
        {"license": facts.licence}
        if re.fullmatch(r"[a-z0-9][a-z0-9.-]*", facts.licence) and facts.licence != "proprietary"
        else {"license": "other", "license_name": facts.licence}
    )
    meta = {
        **licence_meta,
        "base_model": [job.fine_tuned_model],
        "base_model_relation": "adapter",
        "library_name": "llama.cpp",
        "tags": ["valuechain", "fine-tuned", "lora", "gguf", "customer-specific"],
    }
    hp = job.hyperparameters
    parameters = (job.compute_flop or 0) / (6 * job.trained_tokens) if job.trained_tokens else 0
    compute = (
        f"{job.compute_flop:.3e} FLOP, measured as 6 × {parameters:.0f} parameters × {job.trained_tokens} "
        "tokens processed (forward and backward, Kaplan et al. 2020)"
        if job.compute_flop
        else "not measured"
    )
    rows = [
        ("Base model", f"`{job.model}` (served unchanged; this adapter is applied on it)"),
        ("Fine-tuned model", f"`{job.fine_tuned_model}`"),
        ("Fine-tuning job", f"`{job.id}`, run by `{facts.provider_slug}` for `{facts.org_slug}`"),
        ("Method", METHOD),
        (
            "Hyperparameters",
            f"n_epochs={hp.get('n_epochs')}, batch_size={hp.get('batch_size')}, "
            f"learning_rate_multiplier={hp.get('learning_rate_multiplier')}, seed={job.seed}",
        ),
        ("Steps", f"{job.steps_done}/{job.total_steps}"),
        ("Trained tokens", str(job.trained_tokens)),
        ("Compute", compute),
        ("Training data", f"sha256 `{job.training_sha256}`"),
        ("Licence of the base", facts.licence),
        ("Adapter", f"`{ADAPTER}`, llama.cpp LoRA GGUF, sha256 `{facts.adapter_sha256}`"),
    ]
    table = "\n".join(f"| {key} | {value} |" for key, value in rows)
    front = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
    return (
        f"---\n{front}---\n\n# {facts.repo_id}\n\n"
        f"A LoRA adapter of `{job.model}`, fine-tuned by `{facts.provider_slug}` on behalf of "
        f"`{facts.org_slug}` (generated from fine-tuning job `{job.id}`).\n\n"
        f"| | |\n|---|---|\n{table}\n\n"
        "## Intended use\n\n"
        f"Customer-specific: trained on `{facts.org_slug}`'s data for `{facts.org_slug}`'s own use, and "
        "served to it only. It is not a general-purpose release; behaviour outside that data is the base "
        "model's.\n\n"
        "## How to use\n\n"
        f'```python\nfrom llama_cpp import Llama\n\nllm = Llama(model_path="<{job.model} GGUF>", '
        f'lora_path="{ADAPTER}")\n```\n\n'
        f"Or call `{job.fine_tuned_model}` on the provider's OpenAI-compatible `/v1`.\n"
    )
