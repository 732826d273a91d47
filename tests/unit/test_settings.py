"""Settings: defaults < YAML file < HARBOR_* environment; bad values fail with one ConfigError."""

import os
from pathlib import Path

import pytest

from harbor_api.settings import ConfigError, Settings, load_settings


def write_config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "harbor.yml"
    path.write_text(text)
    return path


def test_defaults_are_the_embedded_setup(tmp_path):
    s = load_settings(environ={})
    assert (s.host, s.port, s.data_dir) == ("127.0.0.1", 8080, Path("./data"))
    assert s.resolved_database_url.startswith("sqlite:///") and s.resolved_database_url.endswith(
        "/data/harbor.db"
    )
    assert s.resolved_external_url == "http://127.0.0.1:8080"
    assert s.admin_password is None


def test_workers_default_to_the_usable_cores():
    """As Distribution uses every core: one worker per core this process may run on."""
    cores = len(os.sched_getaffinity(0))
    assert load_settings(environ={}).workers == cores
    assert load_settings(environ={"HARBOR_WORKERS": "1"}).workers == 1


def test_yaml_keys_are_the_setting_names(tmp_path):
    cfg = write_config(
        tmp_path,
        "port: 9000\nexternal_url: https://reg.example.com/\n"
        "data_dir: /srv/harbor\ntoken_expiration_minutes: 5\n",
    )
    s = load_settings(cfg, environ={})
    assert s.port == 9000 and s.token_expiration_minutes == 5
    assert s.data_dir == Path("/srv/harbor")
    assert s.resolved_external_url == "https://reg.example.com"


def test_environment_wins_over_file(tmp_path):
    cfg = write_config(tmp_path, "port: 9000\nlog_level: debug\n")
    s = load_settings(cfg, environ={"HARBOR_PORT": "9100", "HARBOR_ADMIN_PASSWORD": "pw"})
    assert s.port == 9100 and s.log_level == "debug" and s.admin_password == "pw"


def test_config_file_from_environment(tmp_path):
    cfg = write_config(tmp_path, "workers: 3\n")
    assert load_settings(environ={"HARBOR_CONFIG": str(cfg)}).workers == 3


def test_unrelated_and_empty_variables_are_ignored():
    s = load_settings(environ={"HARBOR_VENV": ".venv", "HARBOR_PORT": "", "PORT": "1"})
    assert s.port == 8080


def test_overrides_from_the_command_line_win_and_are_validated(tmp_path):
    s = load_settings(environ={"HARBOR_PORT": "9100"}).with_overrides(
        port=9200, host=None, data_dir=str(tmp_path)
    )
    assert s.port == 9200 and s.host == "127.0.0.1" and s.data_dir == tmp_path
    with pytest.raises(ConfigError, match="port"):
        s.with_overrides(port=0)


def test_plain_postgresql_url_gets_the_psycopg_driver():
    s = load_settings(environ={"HARBOR_DATABASE_URL": "postgresql://postgres@127.0.0.1/x"})
    assert s.resolved_database_url == "postgresql+psycopg://postgres@127.0.0.1/x"


def test_ipv6_host_is_bracketed_in_the_url():
    assert Settings(host="::1").resolved_external_url == "http://[::1]:8080"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"HARBOR_PORT": "eighty"}, "port"),
        ({"HARBOR_PORT": "70000"}, "port"),
        ({"HARBOR_WORKERS": "0"}, "workers"),
        ({"HARBOR_TOKEN_EXPIRATION_MINUTES": "-1"}, "token_expiration_minutes"),
        ({"HARBOR_DATABASE_URL": "mysql://root@localhost/x"}, "database_url"),
        ({"HARBOR_EXTERNAL_URL": "reg.example.com"}, "external_url"),
        ({"HARBOR_TLS_CERT": "/etc/cert.pem"}, "tls_cert"),
        (
            {"HARBOR_TLS_CERT": "/nonexistent/c.pem", "HARBOR_TLS_KEY": "/nonexistent/k.pem"},
            "tls_cert",
        ),
        ({"HARBOR_LOG_LEVEL": "loud"}, "log_level"),
        ({"HARBOR_LOG_FORMAT": "xml"}, "log_format"),
        ({"HARBOR_STORAGE_DRIVER": "floppy"}, "storage_driver"),
    ],
)
def test_invalid_environment_values_name_the_setting(environ, names):
    with pytest.raises(ConfigError) as info:
        load_settings(environ=environ)
    message = str(info.value)
    assert names in message and "\n" not in message


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("port: [1, 2]\n", "port"),
        ("port: true\n", "port"),
        ("port: 80.5\n", "port"),
        ("external_url: {a: 1}\n", "external_url"),
        ("no_such_setting: 1\n", "unknown setting(s) no_such_setting"),
        ("- a\n- b\n", "mapping"),
        ("port: [unclosed\n", "not valid YAML"),
    ],
)
def test_invalid_files_fail_with_one_clear_error(tmp_path, text, fragment):
    with pytest.raises(ConfigError) as info:
        load_settings(write_config(tmp_path, text), environ={})
    assert fragment in str(info.value) and "\n" not in str(info.value)


def test_missing_config_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "absent.yml", environ={})


def test_empty_file_means_defaults(tmp_path):
    assert load_settings(write_config(tmp_path, ""), environ={}) == Settings()


def test_readme_documents_every_setting():
    import dataclasses

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    for f in dataclasses.fields(Settings):
        if f.name != "extra":
            row = f"| `{f.name}` | `HARBOR_{f.name.upper()}` |"
            assert row in readme, f"README configuration table lacks {f.name}"


def test_readme_and_docs_links_resolve():
    import re

    root = Path(__file__).resolve().parents[2]
    pages = [root / "README.md", *sorted((root / "docs").rglob("*.md"))]
    broken = []
    for page in pages:
        for target in re.findall(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", page.read_text()):
            if "://" not in target and not (page.parent / target).exists():
                broken.append(f"{page.relative_to(root)} -> {target}")
    assert broken == []


def test_boolean_settings(tmp_path):
    assert load_settings(environ={}).filtered_catalog is False
    for text, expected in (
        ("true", True),
        ("Yes", True),
        ("1", True),
        ("off", False),
        ("false", False),
    ):
        s = load_settings(environ={"HARBOR_FILTERED_CATALOG": text})
        assert s.filtered_catalog is expected, text
    assert (
        load_settings(
            write_config(tmp_path, "filtered_catalog: true\n"), environ={}
        ).filtered_catalog
        is True
    )
    with pytest.raises(ConfigError, match="filtered_catalog"):
        load_settings(environ={"HARBOR_FILTERED_CATALOG": "maybe"})
