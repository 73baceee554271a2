"""Benchmark of the API channel (issue 3), in one run on this machine.

(a) a fast fake OpenAI-compatible backend called directly, (b) valuechain in front of it with keys, limits,
reservation, metering and metadata logging on, (c) the LiteLLM proxy (one worker, master key, no database)
in front of it: requests/s at concurrency 1 and 32 and added latency p50/p99. Then tokens/s of the bundled
model through /v1/completions against llama.cpp called in-process.

Usage: .venv/bin/python bench/gateway_bench.py [--seconds 5] [--skip-litellm] [--skip-tokens]
       [--baseline SRC] [--profile OUT.txt]

``--baseline SRC`` also serves the valuechain sources in SRC (e.g. a ``git archive`` of the previous
commit), its database seeded and migrated by those sources, and measures both side by side, alternating,
so that noise on a shared machine hits both.
``--profile OUT.txt`` runs the served valuechain under pyinstrument (importable from ``PYINSTRUMENT_PATH``,
kept out of the product's venv) and writes its text report for the measured period.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
import loadgen  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
LITELLM = ROOT / "bench" / ".venv-litellm" / "bin" / "litellm"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 120.0, headers: dict[str, str] | None = None) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            with urllib.request.urlopen(urllib.request.Request(url, headers=headers or {}), timeout=2):
                return
        except Exception:
            time.sleep(0.3)
    raise RuntimeError(f"{url} did not come up")


def seed(home: Path, fake_port: int) -> tuple[str, str]:
    """A provider offering a remote-backed model and an embedded bundled model; an entitled key."""
    os.environ["VALUECHAIN_HOME"] = str(home)
    from sqlalchemy import select

    from valuechain.accounts.models import Organization
    from valuechain.accounts.principal import system_principal
    from valuechain.accounts.schemas import KeyCreate, OrgCreate
    from valuechain.accounts.service import create_key, create_org
    from valuechain.core import migrate
    from valuechain.core.db import Database
    from valuechain.core.settings import Settings
    from valuechain.market import service as market
    from valuechain.market.terms import ApiTerms, Limits, LoggingPolicy, PricePlan
    from valuechain.registry.schemas import ModelCreate, OfferCreate, VersionCreate
    from valuechain.registry.service import create_model, create_offer, create_version
    from valuechain.runtime.service import bind_backend

    db = Database(Settings().resolved_database_url)
    migrate.upgrade(db)
    terms = ApiTerms(
        plan=PricePlan(free_credits=10**15, input_per_mtok=100_000, output_per_mtok=400_000),
        key_limits=Limits(requests_per_minute=10**8, tokens_per_minute=10**11, concurrent_requests=1000),
        org_limits=Limits(tokens_per_day=10**12),
        logging=LoggingPolicy(mode="metadata"),
        max_output_tokens=256,
    )
    with db.unit_of_work() as s:
        for slug in ("bench-provider", "bench-dev"):
            create_org(s, OrgCreate(slug=slug, name=slug, country="FR"), principal=system_principal())
    with db.unit_of_work() as s:
        pid = s.execute(select(Organization.id).where(Organization.slug == "bench-provider")).scalar_one()
        p = system_principal(org_id=pid, org_slug="bench-provider")
        for name, kind, cfg in (
            ("fake", "remote", {"base_url": f"http://127.0.0.1:{fake_port}/v1", "served_name": "fake"}),
            ("smol", "embedded", {"served_name": "smol"}),
        ):
            create_model(s, ModelCreate(name=name, visibility="public"), principal=p)
            v = create_version(s, f"bench-provider/{name}", VersionCreate(label="1"), principal=p)
            o = create_offer(s, OfferCreate(model=f"bench-provider/{name}@1", channel="api"), principal=p)  # type: ignore[arg-type]
            market.set_api_terms(s, o.id, terms, principal=p)
            bind_backend(s, version_id=v.id, kind=kind, config=cfg, context_length=2048, principal=p)
            market.grant(s, o.id, "bench-dev", principal=p)
    with db.unit_of_work() as s:
        _, secret = create_key(
            s, "bench-dev", KeyCreate(name="bench", role="member"), principal=system_principal()
        )  # type: ignore[arg-type]
    db.dispose()
    return secret, str(home)


def seed_with(src: Path, home: Path, fake_port: int) -> str:
    """``seed`` run by the valuechain sources in ``src`` (its own migrations and services), in a child."""
    env = {**os.environ, "PYTHONPATH": str(src)}
    out = subprocess.run(
        [sys.executable, __file__, "--seed-only", str(home), str(fake_port)],
        env=env,
        check=True,
        capture_output=True,
        text=True,
    )
    return out.stdout.strip().splitlines()[-1]


def start(cmd: list[str], env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        cmd, env={**os.environ, **(env or {})}, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def measure(port: int, request: bytes, seconds: float) -> dict[str, dict[str, float]]:
    return {f"c{c}": asyncio.run(loadgen.run(port, request, concurrency=c, seconds=seconds)) for c in (1, 32)}


def tokens_per_second(vc_port: int, key: str, n: int = 128, pairs: int = 5) -> dict[str, float]:
    """Bundled model, greedy, same prompt: llama.cpp in-process vs valuechain's /v1/completions.

    Runs alternate (in-process, API, in-process, …) so that noise from other work on the machine hits both.
    """
    import llama_cpp

    from valuechain.runtime.llamacpp import bundled_model_path

    prompt = "Write a long story about a robot who learns to paint. Once upon a time"
    llm = llama_cpp.Llama(model_path=str(bundled_model_path()), n_ctx=2048, verbose=False)
    body = json.dumps(
        {"model": "bench-provider/smol", "prompt": prompt, "max_tokens": n, "temperature": 0}
    ).encode()

    def via_api() -> float:
        req = urllib.request.Request(
            f"http://127.0.0.1:{vc_port}/v1/completions",
            data=body,
            method="POST",
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
        )
        t = time.perf_counter()
        with urllib.request.urlopen(req, timeout=300) as resp:
            usage = json.loads(resp.read())["usage"]
        return float(usage["completion_tokens"]) / (time.perf_counter() - t)

    def in_process() -> float:
        t = time.perf_counter()
        out = llm.create_completion(prompt, max_tokens=n, temperature=0, repeat_penalty=1.0)
        return float(out["usage"]["completion_tokens"]) / (time.perf_counter() - t)

    via_api()  # loads the model in the server
    direct, api = [], []
    for _ in range(pairs):
        direct.append(in_process())
        api.append(via_api())
    d, a = sorted(direct)[pairs // 2], sorted(api)[pairs // 2]
    return {"in_process_tok_s": d, "api_tok_s": a, "ratio": a / d}


def serve_valuechain(
    home: Path, port: int, *, src: Path | None = None, profile: Path | None = None
) -> subprocess.Popen[bytes]:
    """A one-worker uvicorn serving valuechain from ``src`` (default: the importable one)."""
    args = [
        "valuechain.app:create_app",
        "--factory",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]
    env = {"VALUECHAIN_HOME": str(home)}
    paths = [str(src)] if src else []
    if profile is not None:
        paths.append(os.environ["PYINSTRUMENT_PATH"])
        cmd = [
            sys.executable,
            "-m",
            "pyinstrument",
            "-r",
            "text",
            "-o",
            str(profile),
            "--show-all",
            "-m",
            "uvicorn",
        ]
    else:
        cmd = [sys.executable, "-m", "uvicorn"]
    if paths:
        env["PYTHONPATH"] = os.pathsep.join([*paths, os.environ.get("PYTHONPATH", "")])
    return start(cmd + args, env)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--skip-litellm", action="store_true")
    ap.add_argument("--skip-tokens", action="store_true")
    ap.add_argument("--baseline", type=Path, help="also serve these valuechain sources, side by side")
    ap.add_argument("--profile", type=Path, help="profile the served valuechain (c=1 only) into this file")
    ap.add_argument("--seed-only", nargs=2, metavar=("HOME", "FAKE_PORT"), help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.seed_only:
        print(seed(Path(args.seed_only[0]), int(args.seed_only[1]))[0])
        return
    procs: list[subprocess.Popen[bytes]] = []
    try:
        fake_port, vc_port, ll_port, base_port = free_port(), free_port(), free_port(), free_port()
        procs.append(start([sys.executable, str(ROOT / "bench" / "fake_backend.py"), str(fake_port)]))
        home = Path(tempfile.mkdtemp(prefix="vc-bench-"))
        key, _ = seed(home, fake_port)
        vc = serve_valuechain(home, vc_port, profile=args.profile)
        procs.append(vc)
        targets = {"valuechain": (vc_port, key)}
        if args.baseline is not None:
            base_home = Path(tempfile.mkdtemp(prefix="vc-bench-base-"))
            base_key = seed_with(args.baseline.resolve(), base_home, fake_port)
            procs.append(serve_valuechain(base_home, base_port, src=args.baseline.resolve()))
            targets = {"baseline": (base_port, base_key), **targets}
        wait_http(f"http://127.0.0.1:{fake_port}/v1/models")
        for port, _ in targets.values():
            wait_http(f"http://127.0.0.1:{port}/healthz")
        results: dict[str, object] = {}
        results["direct"] = measure(
            fake_port, loadgen.chat_request("/v1/chat/completions", "x", None, "fake"), args.seconds
        )
        if args.profile is not None:
            request = loadgen.chat_request("/v1/chat/completions", "x", key, "bench-provider/fake")
            results["valuechain"] = {
                "c1": asyncio.run(loadgen.run(vc_port, request, concurrency=1, seconds=args.seconds))
            }
            vc.send_signal(signal.SIGINT)
            vc.wait(timeout=60)
            print(json.dumps(results, indent=2))
            return
        for concurrency in (1, 32):  # alternate the targets per concurrency: noise hits both
            for name, (port, k) in targets.items():
                request = loadgen.chat_request("/v1/chat/completions", "x", k, "bench-provider/fake")
                outcome = asyncio.run(
                    loadgen.run(port, request, concurrency=concurrency, seconds=args.seconds)
                )
                results.setdefault(name, {})[f"c{concurrency}"] = outcome  # type: ignore[index]
        if not args.skip_litellm and LITELLM.exists():
            cfg = home / "litellm.yaml"
            cfg.write_text(
                json.dumps(
                    {
                        "model_list": [
                            {
                                "model_name": "fake",
                                "litellm_params": {
                                    "model": "openai/fake",
                                    "api_base": f"http://127.0.0.1:{fake_port}/v1",
                                    "api_key": "x",
                                },
                            }
                        ],
                        "general_settings": {"master_key": "sk-bench"},
                        "litellm_settings": {"set_verbose": False},
                    }
                )
            )
            procs.append(
                start([str(LITELLM), "--config", str(cfg), "--port", str(ll_port), "--num_workers", "1"])
            )
            wait_http(f"http://127.0.0.1:{ll_port}/health/liveliness", timeout=240)
            results["litellm"] = measure(
                ll_port, loadgen.chat_request("/v1/chat/completions", "x", "sk-bench", "fake"), args.seconds
            )
        if not args.skip_tokens:
            results["tokens"] = tokens_per_second(vc_port, key)
        print(json.dumps(results, indent=2))
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            p.wait(timeout=10)


if __name__ == "__main__":
    main()
