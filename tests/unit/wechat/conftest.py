"""The WeChat tests' fixtures: the db tests' migrated SQLite database and key, and the stand-in."""

from tests.unit.db.conftest import cipher, db_url  # noqa: F401  (fixtures)
from tests.wechat_standin import running_standin, standin  # noqa: F401  (fixtures)
