"""Review finding: a backup archive holds the token signing key (with it anyone can mint
registry tokens), the credential key and the database; it must not be readable by other
local users, whatever the umask."""

import os
import stat

from harbor_api.backup import backup
from harbor_api.db.migrate import upgrade
from harbor_api.db.session import Database
from harbor_api.settings import Settings


def test_backup_archive_is_private_to_its_owner(tmp_path):
    settings = Settings(data_dir=tmp_path / "data")
    settings.data_dir.mkdir()
    db = Database(settings.resolved_database_url)
    upgrade(db.engine)
    db.dispose()
    (settings.data_dir / "token").mkdir()
    key = settings.data_dir / "token" / "private_key.pem"
    key.write_text("secret")
    key.chmod(0o600)
    old = os.umask(0o022)
    try:
        backup(settings, tmp_path / "b.tar")
    finally:
        os.umask(old)
    mode = stat.S_IMODE((tmp_path / "b.tar").stat().st_mode)
    assert mode & 0o077 == 0, oct(mode)
