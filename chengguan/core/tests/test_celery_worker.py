"""Production mode: a real Celery worker process takes tasks from Redis."""

import os
import signal
import subprocess
import sys
import uuid

import pytest
from celery import Celery

REDIS_URL = os.environ.get("CG_TEST_REDIS_URL", "redis://127.0.0.1:6379/15")


@pytest.fixture
def redis_available():
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=2).ping()
    except redis.exceptions.ConnectionError:
        pytest.skip(f"需要 Redis（{REDIS_URL}）；CI 会启动它")


def test_worker_runs_tasks_from_the_redis_broker(redis_available, tmp_path):
    queue = f"test-{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "REDIS_URL": REDIS_URL,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'worker.sqlite3'}",
    }
    worker = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "chengguan", "worker", "--pool=solo", "-Q", queue,
         "--without-heartbeat", "--without-gossip", "--without-mingle", "-l", "warning"],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
    )
    try:
        client = Celery(broker=REDIS_URL, backend=REDIS_URL)
        result = client.send_task("core.ping", queue=queue)
        assert result.get(timeout=60) == "pong"
    finally:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(timeout=20)
        except subprocess.TimeoutExpired:
            worker.kill()
