"""A Dask cluster gives, file by file, the outputs and audit records of a local run."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from medscrub.cli.main import main
from medscrub.cluster import executor_for
from medscrub.keys import SecretKey
from medscrub.model import FileResult
from medscrub.pipeline import Pipeline
from medscrub.profile import Profile
from tests.conftest import KEY_TEXT
from tests.test_resume import essentials, records, tree
from tests.test_scale import CT_RULE, write_archive

distributed = pytest.importorskip("distributed", reason="needs medscrub[dask]")


@pytest.fixture(scope="module")
def client() -> Iterator[Any]:
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as connected:
        yield connected


@pytest.fixture(scope="module")
def archive(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("archive")
    write_archive(root, patients=6, per_patient=16)
    return root


def pipeline() -> Pipeline:
    return Pipeline(Profile(pixel_rules=(CT_RULE,)), key=SecretKey.from_text(KEY_TEXT))


def test_a_cluster_run_equals_a_local_run(client: Any, archive: Path, tmp_path: Path) -> None:
    local = pipeline().run(archive, tmp_path / "local", jobs=0)
    remote = pipeline().run(archive, tmp_path / "dask", executor=client)
    assert tree(tmp_path / "dask") == tree(tmp_path / "local")
    assert essentials(tmp_path / "dask.audit.jsonl") == essentials(tmp_path / "local.audit.jsonl")
    assert remote.counts == local.counts == {"cleaned": 96, "failed": 5, "skipped": 2}


def test_a_worker_lost_mid_run_loses_and_repeats_nothing(client: Any, archive: Path,
                                                         tmp_path: Path) -> None:
    pipeline().run(archive, tmp_path / "local", jobs=0)
    pids = sorted(client.run(os.getpid).values())
    killed: list[int] = []

    def kill_one(result: FileResult) -> None:
        if not killed:  # the first result is back: other batches are running
            os.kill(pids[0], signal.SIGKILL)
            killed.append(pids[0])

    pipeline().run(archive, tmp_path / "dask", executor=client, on_result=kill_one)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the worker
    assert killed
    # no temporary left either, though the killed worker may have been writing one
    assert tree(tmp_path / "dask") == tree(tmp_path / "local")
    assert essentials(tmp_path / "dask.audit.jsonl") == essentials(tmp_path / "local.audit.jsonl")


def test_any_executor_and_the_scheduler_option(client: Any, archive: Path, tmp_path: Path
                                               ) -> None:
    executor, slots = executor_for(client)
    assert slots == 2
    assert executor.submit(os.getpid).result() in client.run(os.getpid).values()
    with pytest.raises(TypeError, match="not an executor"):
        executor_for("tcp://nowhere")
    code = main(["redact", str(archive / "P000"), "-o", str(tmp_path / "cli"), "--key", KEY_TEXT,
                 "--profile", "basic", "--scheduler", client.scheduler.address, "-q"])
    assert code == 0
    Pipeline(Profile(), key=SecretKey.from_text(KEY_TEXT)).run(archive / "P000",
                                                                tmp_path / "local")
    assert len(records(tmp_path / "cli.audit.jsonl")) == 16
    assert tree(tmp_path / "cli") == tree(tmp_path / "local")
