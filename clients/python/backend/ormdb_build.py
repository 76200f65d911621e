"""The build backend of `pip install ./clients/python`: the system's setuptools, no downloads.

pip builds a package in an isolated environment and installs the backend's
requirements into it from an index. On Debian 12 without network access that
fails, although python3-setuptools and python3-wheel are installed. This
backend asks for nothing to be installed and imports setuptools and wheel from
the interpreter's own site directories, which pip's isolation hides from
sys.path but which are still where they were. `pip install
--no-build-isolation` skips it and works as well.
"""

import site
import sys


def _system_site_dirs() -> list:
    dirs = []
    try:
        dirs += site.getsitepackages()
    except AttributeError:  # virtualenv's older site module
        pass
    # A virtual environment's interpreter names its own site directory only;
    # Debian's packages live here.
    dirs.append("/usr/lib/python3/dist-packages")
    return dirs


try:
    import setuptools  # noqa: F401
    import wheel  # noqa: F401
except ImportError:
    for d in _system_site_dirs():
        if d not in sys.path:
            sys.path.append(d)

from setuptools import build_meta as _setuptools  # noqa: E402

build_wheel = _setuptools.build_wheel
build_sdist = _setuptools.build_sdist
prepare_metadata_for_build_wheel = _setuptools.prepare_metadata_for_build_wheel


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []
