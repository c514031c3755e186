"""EngineConfig from the environment, running_engine() overrides, and the command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from offline_engine import EngineConfig, running_engine

ROOT = Path(__file__).resolve().parents[2]


def test_defaults_are_fashns_limits_and_instant_predictions():
    config = EngineConfig()
    assert (config.max_in_flight, config.run_limit, config.run_window_seconds) == (6, 50, 60)
    assert (config.status_limit, config.status_window_seconds) == (50, 10)
    assert config.starting_seconds == config.in_queue_seconds == config.processing_seconds == 0
    assert config.api_key == "fashn-offline-key" and config.output_shape == "list"


def test_from_env_reads_engine_variables():
    config = EngineConfig.from_env(
        {
            "ENGINE_API_KEY": "k-123",
            "ENGINE_PROCESSING_SECONDS": "1.5",
            "ENGINE_MAX_IN_FLIGHT": "3",
            "ENGINE_FAILURE_RATES": '{"PipelineError": 0.25}',
            "ENGINE_OUTPUT_SHAPE": "images",
            "ENGINE_PUBLIC_BASE_URL": "http://media.test/",
            "UNRELATED": "x",
        }
    )
    assert config.api_key == "k-123"
    assert config.processing_seconds == 1.5
    assert config.max_in_flight == 3
    assert config.failure_rates == {"PipelineError": 0.25}
    assert config.output_shape == "images"
    assert config.public_base_url == "http://media.test"


@pytest.mark.parametrize(
    "environ",
    [
        {"ENGINE_MAX_IN_FLIGHT": "lots"},
        {"ENGINE_FAILURE_RATES": "{"},
        {"ENGINE_OUTPUT_SHAPE": "table"},
        {"ENGINE_PROCESSING_SECONDS": "-1"},
    ],
)
def test_bad_environment_values_are_refused(environ):
    with pytest.raises(ValueError):
        EngineConfig.from_env(environ)


def test_processing_spread_is_read_from_the_environment_and_defaults_to_zero():
    assert EngineConfig().processing_spread == 0
    assert EngineConfig.from_env({"ENGINE_PROCESSING_SPREAD": "0.5"}).processing_spread == 0.5


@pytest.mark.parametrize(
    ("spread", "message"),
    [
        ("-0.1", "processing_spread must be >= 0"),
        ("1", "processing_spread must be below 1"),
        ("1.5", "processing_spread must be below 1"),
        ("nan", "processing_spread must be below 1"),
        ("wide", "ENGINE_PROCESSING_SPREAD must be a number"),
    ],
)
def test_a_bad_processing_spread_is_refused_with_its_reason(spread, message):
    with pytest.raises(ValueError, match=message):
        EngineConfig.from_env({"ENGINE_PROCESSING_SPREAD": spread})


def test_the_control_api_refuses_a_spread_of_one_or_more(engine):
    headers = {"Authorization": f"Bearer {engine.api_key}"}
    url = f"{engine.url}/_engine/config"
    refused = requests.post(url, json={"processing_spread": 1}, headers=headers, timeout=5)
    assert refused.status_code == 400
    assert "processing_spread must be below 1" in refused.json()["message"]
    accepted = requests.post(url, json={"processing_spread": 0.25}, headers=headers, timeout=5)
    assert accepted.json()["processing_spread"] == 0.25


def test_updated_refuses_unknown_fields_and_wrong_types():
    with pytest.raises(ValueError, match="Unknown config field"):
        EngineConfig().updated({"colour": "red"})
    with pytest.raises(ValueError, match="must be an integer"):
        EngineConfig().updated({"max_in_flight": True})
    assert EngineConfig().updated({"processing_seconds": 2}).processing_seconds == 2.0


def test_running_engine_overrides_are_what_reset_restores():
    with running_engine(max_in_flight=2, api_key="override-key") as engine:
        assert engine.url.startswith("http://127.0.0.1:") and not engine.url.endswith("/")
        assert engine.api_key == "override-key"
        engine.configure(max_in_flight=5)
        engine.reset()
        assert engine.config.max_in_flight == 2
        headers = {"Authorization": "Bearer override-key"}
        assert requests.get(f"{engine.url}/v1/credits", headers=headers, timeout=5).ok
    with pytest.raises(requests.ConnectionError):  # stopped on exit
        requests.get(f"{engine.url}/v1/credits", headers=headers, timeout=2)


def test_command_line_serves_until_sigterm():
    env = {**os.environ, "ENGINE_API_KEY": "cli-key", "PYTHONPATH": str(ROOT)}
    process = subprocess.Popen(
        [sys.executable, "-m", "offline_engine", "--host", "127.0.0.1", "--port", "0"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        banner = process.stdout.readline()
        assert "serving face-to-model at http://127.0.0.1:" in banner, process.stderr.read()
        url = banner.rsplit(" ", 1)[1].strip()
        assert process.stdout.readline().strip() == f"FASHN_BASE_URL={url}"
        assert process.stdout.readline().strip() == "FASHN_API_KEY=cli-key"
        response = requests.get(
            f"{url}/v1/credits", headers={"Authorization": "Bearer cli-key"}, timeout=5
        )
        assert response.json()["credits"]["total"] == 10000
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=10) == 0
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
