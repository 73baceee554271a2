"""Several machines (issue 14), in one run on this machine:

(a) hub throughput through a served `valuechain serve`: one LFS upload (signed PUT) and one download
    (`/resolve`) of a FILE_MIB file, S3 store (moto's server mode) against the local store, runs alternated;
(b) /v1/chat/completions requests/s with two replicas behind nginx against one replica behind nginx (and one
    replica called directly), on PostgreSQL + Redis + S3, the backend a fake OpenAI upstream
    (bench/fake_backend.py: no inference cost, so what is measured is valuechain itself).
The cost of metrics and request ids on the hot path is measured with bench/gateway_inprocess.py, run
alternately on this tree and on the tree before (see RESULTS.md).

Usage: PYTHONPATH=src VALUECHAIN_TEST_POSTGRES_URL=... VALUECHAIN_TEST_REDIS_URL=... \\
       .venv/bin/python bench/bench_scale.py [--file-mib 64] [--seconds 8] [--rounds 3] [--skip-v1] [--skip-hub]
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).parent))
import loadgen  # noqa: E402
from tests.cluster import MODEL, drop_postgres, fresh_postgres, start_cluster  # noqa: E402
from tests.s3server import start_s3_server  # noqa: E402

MIB = 1024 * 1024


def hub_round(url: str, key: str, repo: str, data: bytes, name: str) -> tuple[float, float]:
    """Seconds of one LFS upload (batch + PUT + verify + commit) and of one download of ``data``."""
    auth = {"authorization": f"Bearer {key}"}
    oid = hashlib.sha256(data).hexdigest()
    with httpx.Client(base_url=url, timeout=600) as http:
        t = time.perf_counter()
        batch = http.post(
            f"/hub/{repo}.git/info/lfs/objects/batch",
            json={"operation": "upload", "objects": [{"oid": oid, "size": len(data)}]},
            headers=auth,
        ).json()
        actions = batch["objects"][0]["actions"]
        assert http.put(actions["upload"]["href"], content=data).status_code == 200
        line = {"key": "lfsFile", "value": {"path": name, "algo": "sha256", "oid": oid, "size": len(data)}}
        body = json.dumps({"key": "header", "value": {"summary": name}}) + "\n" + json.dumps(line)
        assert http.post(f"/hub/api/models/{repo}/commit/main", content=body, headers=auth).status_code == 200
        up = time.perf_counter() - t
        t = time.perf_counter()
        digest = hashlib.sha256()
        with http.stream("GET", f"/hub/{repo}/resolve/main/{name}", headers=auth) as r:
            for chunk in r.iter_bytes(MIB):
                digest.update(chunk)
        down = time.perf_counter() - t
        assert digest.hexdigest() == oid
    return up, down


def bench_hub(file_mib: int, rounds: int, pg: str, redis_url: str) -> dict[str, dict[str, float]]:
    s3 = start_s3_server(Path(tempfile.mkdtemp(prefix="vc-bench-moto-")))
    clusters = {}
    dbs = []
    try:
        for store in ("local", "s3"):
            database_url, name = fresh_postgres(pg)
            dbs.append(name)
            extra = {"VALUECHAIN_BLOB_STORE": store, "VALUECHAIN_S3_PART_BYTES": str(16 * MIB)}
            clusters[store] = start_cluster(
                Path(tempfile.mkdtemp(prefix=f"vc-bench-{store}-")),
                replicas=1,
                database_url=database_url,
                redis_url=redis_url,
                s3=s3,
                extra_env=extra,
                use_nginx=False,
            )
        times: dict[str, list[tuple[float, float]]] = {"local": [], "s3": []}
        for cluster in clusters.values():
            body = {"name": "bench", "organization": "acme", "visibility": "private"}
            auth = {"authorization": f"Bearer {cluster.seeded.provider_key}"}
            assert (
                httpx.post(f"{cluster.url}/hub/api/repos/create", json=body, headers=auth).status_code == 200
            )
        for number in range(rounds):
            data = os.urandom(file_mib * MIB)  # new content each round: no de-duplication
            for store, cluster in clusters.items():
                times[store].append(
                    hub_round(cluster.url, cluster.seeded.provider_key, "acme/bench", data, f"f{number}.bin")
                )
        return {
            store: {
                "upload_mib_s": file_mib / statistics.median(t[0] for t in runs),
                "download_mib_s": file_mib / statistics.median(t[1] for t in runs),
            }
            for store, runs in times.items()
        }
    finally:
        for cluster in clusters.values():
            cluster.stop()
        for name in dbs:
            drop_postgres(pg, name)
        s3.stop()


def bench_v1(seconds: float, pg: str, redis_url: str) -> dict[str, dict[str, float]]:
    s3 = start_s3_server(Path(tempfile.mkdtemp(prefix="vc-bench-moto-")))
    results: dict[str, dict[str, float]] = {}
    try:
        for replicas in (1, 2):
            database_url, name = fresh_postgres(pg)
            cluster = start_cluster(
                Path(tempfile.mkdtemp(prefix=f"vc-bench-v1-{replicas}-")),
                replicas=replicas,
                database_url=database_url,
                redis_url=redis_url,
                s3=s3,
                extra_env={"VALUECHAIN_LOG_LEVEL": "error"},
            )
            try:
                key = cluster.seeded.developer_key
                port = int(cluster.url.rsplit(":", 1)[1])
                request = loadgen.chat_request("/v1/chat/completions", "127.0.0.1", key, MODEL)
                results[f"{replicas} behind nginx"] = asyncio.run(
                    loadgen.run(port, request, concurrency=32, seconds=seconds)
                )
                if replicas == 1:
                    direct = int(cluster.replica_urls[0].rsplit(":", 1)[1])
                    results["1 direct"] = asyncio.run(
                        loadgen.run(direct, request, concurrency=32, seconds=seconds)
                    )
            finally:
                cluster.stop()
                drop_postgres(pg, name)
    finally:
        s3.stop()
    return results


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file-mib", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--skip-hub", action="store_true")
    parser.add_argument("--skip-v1", action="store_true")
    args = parser.parse_args()
    pg = os.environ["VALUECHAIN_TEST_POSTGRES_URL"]
    redis_url = os.environ["VALUECHAIN_TEST_REDIS_URL"]
    if not args.skip_hub:
        hub = bench_hub(args.file_mib, args.rounds, pg, redis_url)
        print(f"hub, {args.file_mib} MiB file, median of {args.rounds}:")
        for store, r in hub.items():
            print(
                f"  {store:6} upload {r['upload_mib_s']:7.1f} MiB/s   download {r['download_mib_s']:7.1f} MiB/s"
            )
        print(
            f"  ratio s3/local: upload {hub['s3']['upload_mib_s'] / hub['local']['upload_mib_s']:.2f}, "
            f"download {hub['s3']['download_mib_s'] / hub['local']['download_mib_s']:.2f}"
        )
    if not args.skip_v1:
        v1 = bench_v1(args.seconds, pg, redis_url)
        print(f"/v1/chat/completions, fake upstream, concurrency 32, {args.seconds:.0f} s each:")
        for name, r in v1.items():
            print(
                f"  {name:16} {r['rps']:7.0f} req/s  p50 {r['p50_ms']:6.1f} ms  p99 {r['p99_ms']:6.1f} ms"
                f"  errors {int(r['errors'])}"
            )
        base = v1["1 behind nginx"]["rps"]
        print(f"  ratio 2 replicas / 1 replica (both behind nginx): {v1['2 behind nginx']['rps'] / base:.2f}")


if __name__ == "__main__":
    main()
