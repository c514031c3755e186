"""The FASHN client imports with ``requests`` alone: importing it imports neither Django nor
Celery (nor the ``avatar_studio`` package's Celery app)."""

import os
import subprocess
import sys
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]

# With None in sys.modules, any import of django or celery (or a submodule) raises ImportError.
CODE = """
import sys
sys.modules["django"] = None
sys.modules["celery"] = None
import avatar_studio.fashn
loaded = sorted(
    name for name, module in sys.modules.items()
    if module is not None and name.split(".")[0] in ("django", "celery", "kombu", "environ")
)
print(avatar_studio.fashn.FashnClient.__name__, loaded, "avatar_studio.celery" in sys.modules)
"""


def test_the_fashn_client_imports_without_django_or_celery():
    env = {key: value for key, value in os.environ.items() if key != "DJANGO_SETTINGS_MODULE"}
    result = subprocess.run(
        [sys.executable, "-c", CODE],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "FashnClient [] False"
