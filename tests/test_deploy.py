"""The deployment recipes in deploy/: checked by the tools that read them, where they exist.

- `newsbot.service` by `systemd-analyze verify` (an alternate root holding the unit, systemd's own
  units and a stand-in for /opt/newsbot/bin/newsbot, so that no file outside the test is needed);
- why it has no `MemoryDenyWriteExecute=`: numba's JIT fails under the kernel's
  memory-deny-write-execute (prctl PR_SET_MDWE, Linux 6.3+), onnxruntime does not;
- `Containerfile` built where a container engine runs (docker or podman with a working daemon);
- `Caddyfile` by `caddy adapt` where Caddy is installed, and against the bot's settings it names.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from bot.settings import Settings
from tests.conftest import ROOT

DEPLOY = ROOT / "deploy"
SYSTEMD_UNITS = Path("/usr/lib/systemd/system")


def unit_settings() -> dict[str, list[str]]:
    """The unit's [Service] keys, each with every value it is given (keys may repeat)."""
    values: dict[str, list[str]] = {}
    section = ""
    for raw in (DEPLOY / "newsbot.service").read_text().splitlines():
        line = raw.strip()
        if line.startswith("["):
            section = line
        elif section == "[Service]" and "=" in line and not line.startswith("#"):
            key, value = line.split("=", 1)
            values.setdefault(key, []).append(value)
    return values


def test_the_unit_runs_the_bot_as_its_own_user_with_its_state_and_hardening() -> None:
    service = unit_settings()
    assert service["ExecStart"] == ["/opt/newsbot/bin/newsbot run"]
    assert service["DynamicUser"] == ["yes"]
    assert service["EnvironmentFile"] == ["/etc/newsbot/newsbot.env"]
    assert service["StateDirectory"] == ["newsbot"]
    assert "NEWSBOT_INDEX_DIR=%S/newsbot/index" in service["Environment"]
    # The package's folder is read-only and the dynamic user has no home: numba's cache goes here.
    assert "NUMBA_CACHE_DIR=%C/newsbot/numba" in service["Environment"]
    assert service["CacheDirectory"] == ["newsbot"]
    assert service["Restart"] == ["on-failure"]
    for key, value in {
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter": "@system-service",
    }.items():
        assert service[key] == [value], key
    assert "MemoryDenyWriteExecute" not in service  # numba's JIT needs it off (below)


@pytest.fixture
def unit_root(tmp_path: Path) -> tuple[str, Path]:
    """systemd-analyze, and a root holding systemd's units, ours and a stand-in for its binary."""
    analyze = shutil.which("systemd-analyze")
    if analyze is None or not SYSTEMD_UNITS.is_dir():
        pytest.skip("systemd-analyze or systemd's units are not installed here")
    root = tmp_path / "root"
    shutil.copytree(SYSTEMD_UNITS, root / "usr/lib/systemd/system", symlinks=True)
    (root / "etc/systemd/system").mkdir(parents=True)
    shutil.copy(DEPLOY / "newsbot.service", root / "etc/systemd/system/newsbot.service")
    stand_in = root / "opt/newsbot/bin/newsbot"
    stand_in.parent.mkdir(parents=True)
    stand_in.write_text("#!/bin/sh\n")
    stand_in.chmod(0o755)
    return analyze, root


UNIT = "/etc/systemd/system/newsbot.service"


@pytest.mark.process
def test_systemd_analyze_verifies_the_unit(unit_root: tuple[str, Path]) -> None:
    analyze, root = unit_root
    verified = subprocess.run(
        [analyze, "verify", f"--root={root}", "--man=no", UNIT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    # An unknown key or a bad value is only a warning (exit 0): any output is a failure.
    assert (verified.returncode, verified.stdout + verified.stderr) == (0, "")


@pytest.mark.process
def test_the_units_exposure_stays_low(unit_root: tuple[str, Path]) -> None:
    """`systemd-analyze security`: 0 is locked down, 10 wide open; the unit scored 1.5 (v252)."""
    analyze, root = unit_root
    rated = subprocess.run(
        [analyze, "security", "--offline=yes", f"--root={root}", "--no-pager", UNIT],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    found = re.search(r"Overall exposure level for newsbot.service: (\d+\.\d+)", rated.stdout)
    if found is None:
        pytest.skip(f"this systemd-analyze cannot rate a unit offline: {rated.stderr.strip()}")
    assert float(found.group(1)) <= 2.0


MDWE_PROBE = textwrap.dedent(
    """
    import ctypes, sys
    PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN = 65, 1
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_MDWE, PR_MDWE_REFUSE_EXEC_GAIN, 0, 0, 0):
        sys.exit(77)  # the kernel has no memory-deny-write-execute
    if sys.argv[1] == "numba":
        import numba
        print(numba.njit(lambda x: x + 1)(1))
    else:
        from index.semantic.embedding import SentenceEncoder
        print(SentenceEncoder.open().encode(["Ferries are running again."]).shape)
    """
)


@pytest.mark.process
def test_numba_cannot_run_where_memory_is_denied_write_and_execute(tmp_path: Path) -> None:
    """Why newsbot.service has no MemoryDenyWriteExecute=yes (systemd's name for this rule)."""

    def probe(what: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "-c", MDWE_PROBE, what],
            cwd=ROOT,
            env={
                "PATH": "/usr/bin:/bin",
                "NUMBA_CACHE_DIR": str(tmp_path),
                "PYTHONPATH": str(ROOT),
            },
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    numba_run = probe("numba")
    if numba_run.returncode == 77:
        pytest.skip("this kernel has no PR_SET_MDWE (Linux 6.3+)")
    assert numba_run.returncode != 0
    assert "cannot allocate executable memory" in numba_run.stderr
    onnx_run = probe("onnx")
    assert (onnx_run.returncode, onnx_run.stdout.strip()) == (0, "(1, 384)"), onnx_run.stderr


def test_the_containerfile_runs_as_a_user_with_the_index_and_caches_on_the_volume() -> None:
    """What the build would show, read from the file: here no engine can build it (below)."""
    text = (DEPLOY / "Containerfile").read_text()
    instructions = re.sub(r"\\\n\s*", " ", re.sub(r"(?m)^#.*\n", "", text))
    lines = [line.split(None, 1) for line in instructions.splitlines() if line.strip()]
    by_name: dict[str, list[str]] = {}
    for name, rest in lines:
        by_name.setdefault(name, []).append(rest.strip())
    assert by_name["FROM"] == ["python:3.11-slim-bookworm"]
    assert by_name["USER"] == ["newsbot"]
    assert by_name["VOLUME"] == ['["/data"]']
    env = " ".join(by_name["ENV"])
    assert "NEWSBOT_INDEX_DIR=/data/index" in env
    assert "NUMBA_CACHE_DIR=/data/cache/numba" in env
    (check,) = by_name["HEALTHCHECK"]
    assert check.endswith('CMD ["python", "-m", "bot.heartbeat"]')
    assert by_name["ENTRYPOINT"] == ['["newsbot"]']
    assert by_name["CMD"] == ['["run"]']


def working_engine() -> str | None:
    """Return docker or podman when one can build here (its daemon answers), else None."""
    for engine in ("podman", "docker"):
        path = shutil.which(engine)
        if path is None:
            continue
        info = subprocess.run([path, "info"], capture_output=True, timeout=30, check=False)
        if info.returncode == 0:
            return path
    return None


@pytest.mark.process
@pytest.mark.slow
def test_the_container_image_builds_and_reports_no_heartbeat_yet() -> None:
    engine = working_engine()
    if engine is None:
        pytest.skip("no container engine can run here (docker/podman absent or no daemon)")
    tag = "newsbot-test:latest"
    build = [engine, "build", "-f", str(DEPLOY / "Containerfile"), "-t", tag, str(ROOT)]
    built = subprocess.run(build, capture_output=True, text=True, timeout=1800, check=False)
    assert built.returncode == 0, built.stderr[-2000:]
    health = subprocess.run(
        [engine, "run", "--rm", "--entrypoint", "python", tag, "-m", "bot.heartbeat"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert health.returncode == 1
    assert health.stdout.startswith("unhealthy: no heartbeat at /data/heartbeat")


def test_the_caddyfile_forwards_the_webhook_path_to_the_bots_port() -> None:
    caddyfile = (DEPLOY / "Caddyfile").read_text()
    named = dict(re.findall(r"#\s+(NEWSBOT_WEBHOOK_\w+)=(\S+)", caddyfile))
    named["NEWSBOT_WEBHOOK_SECRET"] = "s3cret"  # the file says where it goes, not what it is
    settings = Settings.from_env({"TELEGRAM_BOT_TOKEN": "123456:" + "A" * 35} | named, webhook=True)
    hook = settings.webhook
    assert hook is not None
    site = hook.url.removeprefix("https://").split("/")[0]
    assert re.search(rf"^{re.escape(site)} {{", caddyfile, re.MULTILINE)
    assert f"path {hook.path} {hook.path}/" in caddyfile
    assert f"reverse_proxy {hook.listen}:{hook.port}" in caddyfile
    assert "header X-Telegram-Bot-Api-Secret-Token {$NEWSBOT_WEBHOOK_SECRET}" in caddyfile


@pytest.mark.process
def test_caddy_reads_the_caddyfile(tmp_path: Path) -> None:
    caddy = shutil.which("caddy")
    if caddy is None:
        pytest.skip("caddy is not installed here")
    adapted = subprocess.run(
        [caddy, "adapt", "--config", str(DEPLOY / "Caddyfile"), "--adapter", "caddyfile"],
        env={"NEWSBOT_WEBHOOK_SECRET": "s3cret", "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert adapted.returncode == 0, adapted.stderr
