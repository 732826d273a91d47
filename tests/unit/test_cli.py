"""The ``harbor-api`` command: help that explains, and one readable line for bad configuration."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

from harbor_api.cli import main

CONSOLE_SCRIPT = Path(sys.executable).parent / "harbor-api"


@pytest.fixture(autouse=True)
def no_harbor_environment(monkeypatch):
    """In-process runs must not see the caller's HARBOR_* variables."""
    for key in list(os.environ):
        if key.startswith("HARBOR_"):
            monkeypatch.delenv(key)


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HARBOR_")}
    env.update(extra)
    return env


def run_cli(*args: str, **env: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        capture_output=True,
        text=True,
        env=clean_env(**env),
        timeout=60,
    )


def test_console_script_help_explains_the_product():
    result = run_cli("--help")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    for words in (
        "serve",
        "migrate",
        "/v2/",
        "/api/v2.0/",
        "/devcenter",
        "HARBOR_DATABASE_URL",
        "HARBOR_ADMIN_PASSWORD",
        "HARBOR_EXTERNAL_URL",
        "--config",
    ):
        assert words in out, words


def test_serve_help_lists_every_option():
    result = run_cli("serve", "--help")
    assert result.returncode == 0, result.stderr
    for option in (
        "--host",
        "--port",
        "--data-dir",
        "--workers",
        "--config",
        "--tls-cert",
        "--tls-key",
        "--external-url",
        "default 8080",
        "gunicorn",
        "one per usable core",
    ):
        assert option in result.stdout, option


def test_version():
    result = run_cli("--version")
    assert result.returncode == 0 and result.stdout.startswith("harbor-api ")


def test_no_command_prints_help_and_fails(capsys):
    assert main([]) == 2
    assert "serve" in capsys.readouterr().out


def test_bad_config_value_is_one_line_exit_2(tmp_path):
    result = run_cli("serve", "--data-dir", str(tmp_path), HARBOR_PORT="eighty")
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert lines == [
        "harbor-api: configuration error: setting port must be an integer, got 'eighty'"
    ]


@pytest.mark.parametrize(
    ("args", "env", "fragment"),
    [
        (["serve", "--config", "{tmp}/absent.yml"], {}, "absent.yml does not exist"),
        (["serve", "--config", "{tmp}/bad.yml"], {}, "unknown setting(s) colour"),
        (
            ["serve", "--data-dir", "{tmp}/d"],
            {"HARBOR_DATABASE_URL": "mysql://x/y"},
            "database_url",
        ),
        (["serve", "--data-dir", "{tmp}/d", "--workers", "0"], {}, "workers"),
        (["serve", "--data-dir", "{tmp}/d", "--tls-cert", "{tmp}/c.pem"], {}, "tls_key"),
        (["migrate", "--data-dir", "{tmp}/d"], {"HARBOR_EXTERNAL_URL": "nope"}, "external_url"),
        (
            ["serve", "--data-dir", "{tmp}/d"],
            {"HARBOR_TOKEN_PRIVATE_KEY": "/nonexistent/key.pem"},
            "token_private_key",
        ),
    ],
)
def test_configuration_errors_exit_2_with_one_line(tmp_path, args, env, fragment):
    (tmp_path / "bad.yml").write_text("colour: blue\n")
    result = run_cli(*[a.format(tmp=tmp_path) for a in args], **env)
    assert result.returncode == 2, result.stderr
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("harbor-api: configuration error: "), err
    assert fragment in err[0]


def test_unreachable_database_is_one_line(tmp_path):
    result = run_cli(
        "migrate",
        "--data-dir",
        str(tmp_path),
        HARBOR_DATABASE_URL=("postgresql+psycopg://nobody@127.0.0.1:1/none?connect_timeout=2"),
    )
    assert result.returncode == 1
    err = result.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("harbor-api: cannot reach the database"), err


def test_migrate_creates_the_database(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("HARBOR_ADMIN_PASSWORD", "Harbor12345")
    assert main(["migrate", "--data-dir", str(tmp_path)]) == 0
    assert (tmp_path / "harbor.db").is_file()
    assert "up to date" in capsys.readouterr().out


def test_help_lists_the_operator_commands():
    result = run_cli("--help")
    for command in ("reset-password", "backup", "restore", "version"):
        assert command in result.stdout, command


@pytest.mark.parametrize(
    ("env", "fragment"),
    [
        ({"HARBOR_GRACEFUL_TIMEOUT": "0"}, "graceful_timeout must be at least 1"),
        ({"HARBOR_HEADER_TIMEOUT": "0"}, "header_timeout must be at least 1"),
        ({"HARBOR_MAX_CONNECTIONS_PER_CLIENT": "-1"}, "max_connections_per_client must be 0"),
    ],
)
def test_connection_and_shutdown_settings_are_checked(tmp_path, env, fragment):
    result = run_cli("serve", "--data-dir", str(tmp_path / "d"), **env)
    assert result.returncode == 2 and fragment in result.stderr, result.stderr
    assert not (tmp_path / "d").exists()


def test_reset_password_on_a_missing_database_says_so(tmp_path):
    result = subprocess.run(
        [
            str(CONSOLE_SCRIPT),
            "reset-password",
            "admin",
            "--password-stdin",
            "--data-dir",
            str(tmp_path / "none"),
        ],
        input="Harbor12345\n",
        capture_output=True,
        text=True,
        env=clean_env(),
        timeout=60,
    )
    assert result.returncode == 1
    assert "there is no database at" in result.stderr and "HARBOR_ADMIN_PASSWORD" in result.stderr
    assert not (tmp_path / "none").exists()


def test_restore_refuses_a_file_that_is_not_a_backup(tmp_path):
    bogus = tmp_path / "bogus.tar"
    bogus.write_bytes(b"not a tar file")
    result = run_cli("restore", "--data-dir", str(tmp_path / "d"), str(bogus))
    assert result.returncode == 1
    assert result.stderr.startswith("harbor-api: restore: archive ")
    assert not (tmp_path / "d").exists()
