"""Several `valuechain serve` replicas behind Debian's nginx, sharing PostgreSQL, Redis and an S3 server.

Used by the replica test (``tests/test_replicas.py``) and the scale benchmark (``bench/bench_scale.py``).
Every process it starts is a child of the caller and is ended by ``Cluster.stop``.
"""

from __future__ import annotations

import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from sqlalchemy import create_engine, select, text

from tests.s3server import S3Server, s3_env

ROOT = Path(__file__).resolve().parents[1]
FAKE_BACKEND = ROOT / "bench" / "fake_backend.py"
MODEL = "acme/remote"
NGINX = shutil.which("nginx") or next(
    (p for p in ("/usr/sbin/nginx", "/usr/local/sbin/nginx") if Path(p).exists()), None
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_http(url: str, process: subprocess.Popen[bytes] | None = None, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"process for {url} exited with {process.returncode}")
        with suppress(httpx.HTTPError):
            if httpx.get(url, timeout=2).status_code == 200:
                return
        time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {timeout_s} s")


def fresh_postgres(admin_url: str) -> tuple[str, str]:
    """A new, empty PostgreSQL database next to ``admin_url``'s: (its URL, its name)."""
    from valuechain.core.settings import normalise_database_url

    name = f"vc_replicas_{uuid.uuid4().hex[:12]}"
    admin = create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return admin_url.rsplit("/", 1)[0] + f"/{name}", name


def drop_postgres(admin_url: str, name: str) -> None:
    from valuechain.core.settings import normalise_database_url

    admin = create_engine(normalise_database_url(admin_url), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@dataclass(frozen=True)
class Seeded:
    """Keys of the seeded world: a provider (hub uploads) and an entitled developer (/v1)."""

    provider_key: str
    developer_key: str
    operator_key: str


def seed(database_url: str, upstream_url: str) -> Seeded:
    """Migrate, then: a provider offering a remote-backed model, an entitled developer with credits."""
    from valuechain.accounts.models import Organization
    from valuechain.accounts.principal import system_principal
    from valuechain.accounts.schemas import KeyCreate, OrgCreate
    from valuechain.accounts.service import create_key, create_org
    from valuechain.core import migrate
    from valuechain.core.db import Database
    from valuechain.core.settings import normalise_database_url
    from valuechain.market import service as market
    from valuechain.market.terms import ApiTerms, Limits, LoggingPolicy, PricePlan
    from valuechain.registry.schemas import ModelCreate, OfferCreate, VersionCreate
    from valuechain.registry.service import create_model, create_offer, create_version
    from valuechain.runtime.service import bind_backend

    db = Database(normalise_database_url(database_url))
    migrate.upgrade(db)
    terms = ApiTerms(
        plan=PricePlan(free_credits=10**12, input_per_mtok=100_000, output_per_mtok=400_000),
        key_limits=Limits(requests_per_minute=10**7, concurrent_requests=10_000),
        logging=LoggingPolicy(mode="metadata"),
        max_output_tokens=64,
    )
    system = system_principal()
    with db.unit_of_work() as s:
        for slug in ("acme", "devco"):
            create_org(s, OrgCreate(slug=slug, name=slug, country="FR"), principal=system)
    with db.unit_of_work() as s:
        acme_id = s.execute(select(Organization.id).where(Organization.slug == "acme")).scalar_one()
        acme = system_principal(org_id=acme_id, org_slug="acme")
        create_model(s, ModelCreate(name="remote", visibility="public"), principal=acme)
        version = create_version(s, MODEL, VersionCreate(label="1"), principal=acme)  # type: ignore[call-arg]
        offer = create_offer(s, OfferCreate(model=f"{MODEL}@1", channel="api"), principal=acme)  # type: ignore[arg-type]
        market.set_api_terms(s, offer.id, terms, principal=acme)
        config = {"base_url": f"{upstream_url}/v1", "served_name": "fake"}
        bind_backend(
            s, version_id=version.id, kind="remote", config=config, context_length=2048, principal=acme
        )
        market.grant(s, offer.id, "devco", principal=acme)
    with db.unit_of_work() as s:
        _, provider = create_key(s, "acme", KeyCreate(name="hub", role="admin"), principal=system)  # type: ignore[arg-type]
        _, developer = create_key(s, "devco", KeyCreate(name="v1", role="member"), principal=system)  # type: ignore[arg-type]
        _, operator = create_key(
            s, "acme", KeyCreate(name="ops", role="admin"), principal=system, is_operator=True
        )  # type: ignore[arg-type]
    db.dispose()
    return Seeded(provider_key=provider, developer_key=developer, operator_key=operator)


NGINX_CONF = """
worker_processes 1;
daemon off;
{user}
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 0;
    upstream valuechain {{
{servers}
        keepalive 64;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://valuechain;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_request_buffering off;
            proxy_buffering off;
            proxy_read_timeout 120s;
            # a request already sent to a replica that dies is never sent again (POSTs are not
            # idempotent): the client gets 502 and may retry; connection failures go to the next one
            proxy_next_upstream error timeout;
        }}
    }}
}}
"""


def nginx_conf(directory: Path, *, port: int, upstream_ports: list[int]) -> Path:
    """An nginx configuration balancing ``port`` over the replicas; everything it writes stays in ``directory``."""
    servers = "\n".join(f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in upstream_ports)
    user = "user root;" if os.geteuid() == 0 else ""  # the worker must reach a 0700 temporary directory
    path = directory / "nginx.conf"
    path.write_text(NGINX_CONF.format(user=user, dir=directory, servers=servers, port=port))
    return path


@dataclass
class Cluster:
    """The processes of one cluster and where to reach them."""

    directory: Path
    url: str  # nginx
    replica_urls: list[str]
    seeded: Seeded
    database_url: str
    bucket: str
    redis_prefix: str
    journal_dir: Path
    replicas: list[subprocess.Popen[bytes]] = field(default_factory=list)
    others: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def kill_replica(self, index: int) -> None:
        self.replicas[index].send_signal(signal.SIGKILL)
        self.replicas[index].wait()

    def stop(self) -> None:
        for process in [*self.replicas, *self.others]:
            if process.poll() is None:
                process.terminate()
        for process in [*self.replicas, *self.others]:
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def start_cluster(
    directory: Path,
    *,
    replicas: int,
    database_url: str,
    redis_url: str,
    s3: S3Server,
    upstream_delay_s: float = 0.0,
    extra_env: dict[str, str] | None = None,
    use_nginx: bool = True,
) -> Cluster:
    """A fake upstream, ``replicas`` servers and (unless ``use_nginx`` is False) nginx in front."""
    upstream_port = free_port()
    upstream = subprocess.Popen(
        [sys.executable, str(FAKE_BACKEND), str(upstream_port), str(upstream_delay_s)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    others = [upstream]
    seeded = seed(database_url, f"http://127.0.0.1:{upstream_port}")
    bucket, prefix = s3.new_bucket(), f"vc-replicas-{secrets.token_hex(4)}:"
    journal = directory / "journal"  # shared: replicas on one machine recover each other's entries
    env = {
        **os.environ,
        **s3_env(s3, bucket),
        "PYTHONPATH": os.pathsep.join([str(ROOT / "src"), os.environ.get("PYTHONPATH", "")]),
        "VALUECHAIN_DATABASE_URL": database_url,
        "VALUECHAIN_REDIS_URL": redis_url,
        "VALUECHAIN_REDIS_KEY_PREFIX": prefix,
        "VALUECHAIN_GATEWAY_JOURNAL_DIR": str(journal),
        "VALUECHAIN_GATEWAY_JOURNAL_SCAN_S": "0.5",
        "VALUECHAIN_HUB_UPLOAD_SECRET": secrets.token_hex(32),  # the same on every replica
        "VALUECHAIN_HUB_INLINE_MAX_BYTES": "1024",
        "VALUECHAIN_S3_PART_BYTES": str(5 * 1024 * 1024),
        "VALUECHAIN_LOG_LEVEL": "warning",
        "VALUECHAIN_LOG_FORMAT": "json",
        **(extra_env or {}),
    }
    ports = [free_port() for _ in range(replicas)]
    started: list[subprocess.Popen[bytes]] = []
    for index, port in enumerate(ports):
        home = directory / f"replica-{index}"
        home.mkdir()
        log = (directory / f"replica-{index}.log").open("wb")
        started.append(
            subprocess.Popen(
                [sys.executable, "-m", "valuechain", "serve", "--port", str(port)],
                env={**env, "VALUECHAIN_HOME": str(home)},
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
    cluster = Cluster(
        directory=directory,
        url=f"http://127.0.0.1:{ports[0]}",
        replica_urls=[f"http://127.0.0.1:{p}" for p in ports],
        seeded=seeded,
        database_url=database_url,
        bucket=bucket,
        redis_prefix=prefix,
        journal_dir=journal,
        replicas=started,
        others=others,
    )
    try:
        for url, process in zip(cluster.replica_urls, started, strict=True):
            wait_http(f"{url}/readyz", process)
        if use_nginx:
            assert NGINX is not None, "nginx is not installed"
            port = free_port()
            conf = nginx_conf(directory, port=port, upstream_ports=ports)
            nginx = subprocess.Popen(
                [NGINX, "-p", str(directory), "-c", str(conf), "-e", str(directory / "error.log")],
                stdout=subprocess.DEVNULL,
                stderr=(directory / "nginx.stderr").open("wb"),
            )
            others.append(nginx)
            cluster.url = f"http://127.0.0.1:{port}"
            wait_http(f"{cluster.url}/healthz", nginx)
    except BaseException:
        cluster.stop()
        raise
    return cluster
