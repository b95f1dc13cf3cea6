"""The README documents every environment variable the code reads, and leads with the two commands."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PRODUCT_DIRS = ["hubdash", "channels_app", "conversations"]
# env.str("NAME", ...), env.int("NAME"), env.db("NAME"), os.environ.get("NAME"), os.environ["NAME"]
ENV_READ = re.compile(
    r"""(?:\benv(?:\.\w+)?\(|os\.environ(?:\.get\(|\[)|os\.getenv\()\s*["']([A-Z][A-Z0-9_]+)["']"""
)


def _variables_read_by_the_product() -> set[str]:
    names: set[str] = set()
    for folder in PRODUCT_DIRS:
        for path in (ROOT / folder).rglob("*.py"):
            names.update(ENV_READ.findall(path.read_text()))
    return names - {"DJANGO_SETTINGS_MODULE"}


def test_every_environment_variable_is_in_the_readme():
    readme = (ROOT / "README.md").read_text()
    names = _variables_read_by_the_product()
    assert {"DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HUB_BASE_URL"} <= names
    missing = sorted(name for name in names if f"`{name}`" not in readme)
    assert missing == [], f"README lacks these environment variables: {missing}"


def test_readme_leads_with_make_run_and_make_test():
    readme = (ROOT / "README.md").read_text()
    first_block = readme[: readme.index("\n## ", readme.index("make test"))]
    assert "make run" in first_block
    assert "make test" in first_block
