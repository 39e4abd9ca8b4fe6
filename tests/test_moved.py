"""The old flat module paths (glasscam ≤ 0.1) still import, each name resolving to its new home
with a DeprecationWarning (glasscam._moved); the users' scripts of the field cases use them."""

import importlib
import inspect
import subprocess
import sys
import warnings

import pytest

from glasscam import _moved
from glasscam.core import systems
from glasscam.md.engines import hoomd_available


def test_every_moved_name_exists_at_its_new_home():
    missing = []
    for old, targets in _moved.MOVED.items():
        for target, names in targets.items():
            if target.endswith("hoomd_engine") and not hoomd_available():
                continue
            module = importlib.import_module(f"glasscam.{target}")
            missing += [f"glasscam.{old}.{n} → glasscam.{target}" for n in names.split() if not hasattr(module, n)]
    assert not missing, missing


def test_old_paths_import_with_a_warning_naming_the_new_home():
    with pytest.warns(DeprecationWarning, match=r"glasscam\.systems\.system_from_config moved to glasscam\.core\.systems"):
        from glasscam.systems import system_from_config
    assert system_from_config is systems.system_from_config
    with pytest.warns(DeprecationWarning, match="glasscam.io.foreign"):
        from glasscam.readers import read_trajectory  # noqa: F401
    engines_base = importlib.import_module("glasscam.engines.base")  # an old subpackage's module
    with pytest.warns(DeprecationWarning):
        assert engines_base.Engine is importlib.import_module("glasscam.md.engines.base").Engine
    with pytest.raises(AttributeError, match="docs/howto/migrate.md"):
        importlib.import_module("glasscam.dynamics").S4_DEFAULTS  # noqa: B018 — replaced by S4Options
    with pytest.raises(ImportError):
        importlib.import_module("glasscam.no_such_module")


def test_stage_functions_accept_old_positional_calls_through_old_paths():
    def stage(*, trajectory, out, q=None):
        return trajectory, out, q

    wrapped = _moved._positional_as_keywords(stage, "glasscam.stages.toy.stage")
    with pytest.warns(DeprecationWarning, match=r"keyword-only now: call it as glasscam\.stages\.toy\.stage\(trajectory=…, out=…"):
        assert wrapped("a.gsd", "b.csv", q=7.25) == ("a.gsd", "b.csv", 7.25)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert wrapped(trajectory="a", out="b") == ("a", "b", None)  # keyword calls: no warning
    with pytest.raises(TypeError, match="multiple values"):
        wrapped("a", trajectory="b", out="c")
    with pytest.raises(TypeError, match="at most 3"):
        wrapped(1, 2, 3, 4)
    with pytest.warns(DeprecationWarning):
        from glasscam.dynamics import compute_aging_dynamics
    assert list(inspect.signature(compute_aging_dynamics).parameters)[:2] == ["aging_paths", "out_csv"]


def test_the_package_itself_never_uses_an_old_path():
    """A fresh interpreter importing every module of the package triggers no DeprecationWarning."""
    code = ("import importlib, pkgutil, warnings, glasscam\n"
            "warnings.simplefilter('error', DeprecationWarning)\n"
            "for m in pkgutil.walk_packages(glasscam.__path__, 'glasscam.'):\n"
            "    if 'hoomd_engine' in m.name or m.name.endswith('__main__'): continue\n"
            "    importlib.import_module(m.name)\n")
    done = subprocess.run([sys.executable, "-W", "ignore::DeprecationWarning:torch", "-c", code],
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
