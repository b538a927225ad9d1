"""Every command on the command line (README "Management commands"): a bad option value
is one line and a non-zero exit, not argparse's usage; commands keep django-q's log
lines off standard error; errors are sentences with double-quoted values."""

import io
import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from commerce.cli import cluster_log_quiet

ROOT = Path(__file__).resolve().parents[2]


def manage(*args, tmp_path) -> subprocess.CompletedProcess:
    env = {**os.environ, "VAR_DIR": str(tmp_path)}
    env.pop("DATABASE_URL", None)
    env.pop("CHANNEL_DATABASE_URLS", None)
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize(
    "args, line",
    [
        (
            ["async_customer_status", "--format", "xml"],
            "error: argument --format: invalid choice: 'xml' (choose from",
        ),
        (["run_job", "upload", "--sync", "--wait"], "error: argument --wait: not allowed with"),
        (["run_job", "upload", "--timeout", "soon"], "error: argument --timeout: invalid float"),
    ],
)
def test_a_bad_option_value_is_one_line_on_stderr_and_exit_2(tmp_path, args, line):
    result = manage(*args, tmp_path=tmp_path)

    assert result.returncode == 2
    assert result.stdout == ""
    assert result.stderr.startswith(line)
    assert result.stderr.count("\n") == 1 and "usage:" not in result.stderr


def test_called_from_code_a_bad_option_value_is_still_a_command_error():
    with pytest.raises(CommandError, match="invalid choice: 'xml'"):
        call_command("async_customer_status", "--format", "xml", stdout=io.StringIO())


def test_commands_keep_the_cluster_log_off_stderr():
    logger = logging.getLogger("django-q")
    level = logger.level
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    try:
        cluster_log_quiet()
        logger.addHandler(handler)
        logger.info("Enqueued [commerce] 1")
        logger.warning("the broker refused the task")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)

    assert "Enqueued" not in stream.getvalue()
    assert "the broker refused the task" in stream.getvalue()  # warnings still show


def test_only_the_cluster_commands_keep_their_log(monkeypatch):
    from django.core.management.base import BaseCommand

    from commerce import cli

    quieted = []
    monkeypatch.setattr(cli, "cluster_log_quiet", lambda: quieted.append(True))
    monkeypatch.setattr(cli, "_django_run_from_argv", lambda command, argv: None)
    command = BaseCommand()
    BaseCommand.run_from_argv(command, ["manage.py", "qcluster"])
    assert quieted == []
    BaseCommand.run_from_argv(command, ["manage.py", "create_customer_at_store"])
    assert quieted == [True]
