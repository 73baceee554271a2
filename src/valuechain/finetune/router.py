"""``/v1/files`` and ``/v1/fine_tuning/jobs`` on the OpenAI surface: thin routes over ``service.py``.

Errors are OpenAI error objects (the gateway's ``OpenAIRoute``); input errors of the service (a bad line,
an unknown hyperparameter) are 400 ``invalid_request_error`` as OpenAI answers them, an uncovered job is 429
``insufficient_quota``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import pydantic
from fastapi import APIRouter, Request
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile as StarletteUpload
from starlette.responses import Response

from valuechain.accounts.principal import Principal
from valuechain.accounts.service import authenticate
from valuechain.core.errors import QuotaExceededError, ValidationError
from valuechain.finetune import protocol as p
from valuechain.finetune import service
from valuechain.finetune.records import FileRecord
from valuechain.gateway.errors import GatewayError, bad_request
from valuechain.gateway.router import KEYED, OpenAIRoute, bearer_secret, keyed_body
from valuechain.hub.storage import BlobStore, LocalBlobStore

T = TypeVar("T")
router = APIRouter(route_class=OpenAIRoute, tags=["openai"])

#: the paths served here, for the gateway's fast path (it answers every other /v1 path with OpenAI's 404)
PATHS = ("/v1/files", "/v1/fine_tuning/")


def blob_store(request: Request) -> BlobStore:
    """The content-addressed blob store the hub uses (shared by every process on the same storage)."""
    store = getattr(request.app.state, "finetune_store", None)
    if store is None:
        store = request.app.state.finetune_store = LocalBlobStore(
            request.app.state.settings.resolved_hub_blob_dir
        )
    return store  # type: ignore[no-any-return]


@contextmanager
def _unit(request: Request, *, write: bool) -> Iterator[tuple[Session, Principal]]:
    """The caller (bearer key) and one unit of work; service errors in OpenAI's words."""
    db = request.app.state.db
    secret = bearer_secret(request)
    with db.unit_of_work() if write else db.session() as session:
        principal = authenticate(session, secret)
        try:
            yield session, principal
        except ValidationError as exc:
            raise bad_request(exc.message) from exc
        except QuotaExceededError as exc:
            raise GatewayError(
                exc.message,
                status_code=429,
                code="insufficient_quota",
                error_type="insufficient_quota",
                headers={"x-should-retry": "false"},
            ) from exc


def _call(request: Request, fn: Callable[[Session, Principal], T], *, write: bool = False) -> T:
    with _unit(request, write=write) as (session, principal):
        return fn(session, principal)


def _json(payload: Any, status: int = 200) -> Response:
    import orjson

    return Response(orjson.dumps(payload), status_code=status, media_type="application/json")


def _query_int(request: Request, name: str, default: int, high: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= high:
        raise bad_request(f"{name} must be an integer from 1 to {high}", param=name)
    return int(raw)


UPLOAD_BODY = {
    "requestBody": {
        "required": True,
        "content": {
            "multipart/form-data": {
                "schema": {
                    "type": "object",
                    "required": ["file", "purpose"],
                    "properties": {
                        "file": {"type": "string", "format": "binary"},
                        "purpose": {"type": "string", "enum": ["fine-tune"]},
                    },
                }
            }
        },
    }
}


@router.post("/v1/files", openapi_extra={**KEYED, **UPLOAD_BODY})
async def create_file(request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/files/create"""
    import anyio

    filename, content, purpose = await _upload(request)
    store = blob_store(request)

    def upload(session: Session, principal: Principal) -> FileRecord:
        return service.upload_file(
            session, store, principal=principal, filename=filename, purpose=purpose, content=content
        )

    record = await anyio.to_thread.run_sync(lambda: _call(request, upload, write=True))
    return _json(p.file_object(record))


async def _upload(request: Request) -> tuple[str, bytes, str]:
    """The multipart body: ``file`` (a file) and ``purpose``."""
    bearer_secret(request)  # no key: 401 before reading a body
    try:
        form = await request.form(max_files=1, max_fields=8)
    except Exception as exc:  # malformed multipart, as Starlette raises it
        raise bad_request("the body must be multipart/form-data with `file` and `purpose`") from exc
    file, purpose = form.get("file"), form.get("purpose")
    if not isinstance(file, StarletteUpload):
        raise bad_request("`file` is required: the JSONL file to upload", param="file")
    if not isinstance(purpose, str):
        raise bad_request("`purpose` is required", param="purpose")
    content = await file.read(service.MAX_FILE_BYTES + 1)
    if len(content) > service.MAX_FILE_BYTES:
        raise GatewayError("the file is too large", status_code=413, code="file_too_large")
    return file.filename or "file.jsonl", content, purpose


@router.get("/v1/files", openapi_extra=KEYED)
def list_files(request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/files/list"""
    purpose = request.query_params.get("purpose")
    records = _call(request, lambda s, pr: service.list_files(s, principal=pr, purpose=purpose))
    return _json(p.page([p.file_object(f) for f in records], has_more=False))


@router.get("/v1/files/{file_id}", openapi_extra=KEYED)
def retrieve_file(file_id: str, request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/files/retrieve"""
    return _json(p.file_object(_call(request, lambda s, pr: service.get_file(s, file_id, principal=pr))))


@router.get("/v1/files/{file_id}/content", openapi_extra=KEYED)
def retrieve_file_content(file_id: str, request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/files/retrieve-contents"""
    store = blob_store(request)
    body = _call(request, lambda s, pr: service.file_content(s, store, file_id, principal=pr))
    return Response(body, media_type="application/octet-stream")


@router.delete("/v1/files/{file_id}", openapi_extra=KEYED)
def delete_file(file_id: str, request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/files/delete"""
    deleted = _call(request, lambda s, pr: service.delete_file(s, file_id, principal=pr), write=True)
    return _json({"id": deleted, "object": "file", "deleted": True})


@router.post("/v1/fine_tuning/jobs", openapi_extra=keyed_body(p.FineTuningJobCreate))
async def create_fine_tuning_job(request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/fine-tuning/create"""
    import anyio

    body = await _body(request)
    store = blob_store(request)
    job = await anyio.to_thread.run_sync(
        lambda: _call(request, lambda s, pr: service.create_job(s, store, body, principal=pr), write=True)
    )
    return _json(p.job_object(job))


async def _body(request: Request) -> service.JobCreate:
    import orjson

    try:
        req = p.FineTuningJobCreate.model_validate(orjson.loads(await request.body()))
        hp = req.hyperparameters
        if req.method is not None and req.method.supervised is not None:
            hp = req.method.supervised.hyperparameters
        given = hp.given() if hp is not None else {}
    except orjson.JSONDecodeError as exc:
        raise bad_request(f"the body is not valid JSON: {exc.msg}", code="invalid_json") from exc
    except pydantic.ValidationError as exc:
        err = exc.errors(include_url=False)[0]
        param = ".".join(str(x) for x in err["loc"]) or None
        if err["type"] == "extra_forbidden":
            raise bad_request(f"Unrecognized request argument supplied: {param}", param=param) from exc
        raise bad_request(f"{param}: {err['msg']}", param=param) from exc
    except ValueError as exc:
        raise bad_request(str(exc), param="hyperparameters") from exc
    return service.JobCreate(
        model=req.model,
        training_file=req.training_file,
        validation_file=req.validation_file,
        hyperparameters=given,
        suffix=req.suffix,
        seed=req.seed,
        metadata=req.metadata,
    )


@router.get("/v1/fine_tuning/jobs", openapi_extra=KEYED)
def list_fine_tuning_jobs(request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/fine-tuning/list"""
    after, limit = request.query_params.get("after"), _query_int(request, "limit", 20, 100)
    got = _call(request, lambda s, pr: service.list_jobs(s, principal=pr, after=after, limit=limit))
    return _json(p.page([p.job_object(j) for j in got.items], has_more=got.has_more))


@router.get("/v1/fine_tuning/jobs/{job_id}", openapi_extra=KEYED)
def retrieve_fine_tuning_job(job_id: str, request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/fine-tuning/retrieve"""
    return _json(p.job_object(_call(request, lambda s, pr: service.get_job(s, job_id, principal=pr))))


@router.post("/v1/fine_tuning/jobs/{job_id}/cancel", openapi_extra=KEYED)
def cancel_fine_tuning_job(job_id: str, request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/fine-tuning/cancel"""
    job = _call(request, lambda s, pr: service.cancel_job(s, job_id, principal=pr), write=True)
    return _json(p.job_object(job))


@router.get("/v1/fine_tuning/jobs/{job_id}/events", openapi_extra=KEYED)
def list_fine_tuning_events(job_id: str, request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/fine-tuning/list-events"""
    after, limit = request.query_params.get("after"), _query_int(request, "limit", 20, 1000)
    got = _call(request, lambda s, pr: service.list_events(s, job_id, principal=pr, after=after, limit=limit))
    return _json(p.page([p.event_object(e) for e in got.items], has_more=got.has_more))


@router.get("/v1/fine_tuning/jobs/{job_id}/checkpoints", openapi_extra=KEYED)
def list_fine_tuning_checkpoints(job_id: str, request: Request) -> Response:
    """https://platform.openai.com/docs/api-reference/fine-tuning/list-checkpoints"""
    after, limit = request.query_params.get("after"), _query_int(request, "limit", 10, 100)
    got = _call(
        request, lambda s, pr: service.list_checkpoints(s, job_id, principal=pr, after=after, limit=limit)
    )
    return _json(p.page([p.checkpoint_object(c) for c in got.items], has_more=got.has_more))
