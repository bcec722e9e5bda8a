"""The core is pure science: it imports and works without Django or the CLI."""

import subprocess
import sys
import textwrap


def test_every_core_module_imports_with_django_and_click_unavailable():
    # A meta-path finder makes any import of django or click fail, as on a
    # researcher's machine without them; then every core module is imported.
    script = textwrap.dedent("""
        import importlib, pkgutil, sys

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name.split(".")[0] in {"django", "click"}:
                    raise ImportError(f"blocked: {name}")
                return None

        sys.meta_path.insert(0, Block())
        import alliance.core
        names = [m.name for m in pkgutil.walk_packages(alliance.core.__path__, "alliance.core.")]
        for name in names:
            importlib.import_module(name)
        assert not any(m.split(".")[0] in {"django", "click"} for m in sys.modules)
        print(len(names))
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout.strip()) >= 2
