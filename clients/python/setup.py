"""Builds ormdb._ormdb with the repository's CMake build (target ormdb_python).

`pip install ./clients/python` configures a build of the
checkout under setuptools' build directory and builds the module there. With
ORMDB_BUILD_DIR set to an existing build directory (`make build` makes
`build/`), it builds the module there instead, which reuses that build.
"""

import os
import pathlib
import shutil
import subprocess
import sys

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

REPO = pathlib.Path(__file__).resolve().parent.parent.parent


class CMakeBuild(build_ext):
    def build_extension(self, ext: Extension) -> None:
        build_dir = os.environ.get("ORMDB_BUILD_DIR")
        if build_dir:
            build = pathlib.Path(build_dir).resolve()
        else:
            build = pathlib.Path(self.build_temp).resolve() / "cmake"
            subprocess.run(
                ["cmake", "-S", str(REPO), "-B", str(build), "-DCMAKE_BUILD_TYPE=Release",
                 "-DORMDB_PYTHON=ON", f"-DPython_EXECUTABLE={sys.executable}"],
                check=True)
        jobs = os.environ.get("ORMDB_BUILD_JOBS", "2")
        subprocess.run(["cmake", "--build", str(build), "--target", "ormdb_python", "-j", jobs],
                       check=True)
        built = sorted((build / "python" / "ormdb").glob("_ormdb*.so"))
        if not built:
            raise RuntimeError(f"no _ormdb module in {build / 'python' / 'ormdb'}")
        target = pathlib.Path(self.get_ext_fullpath(ext.name))
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(built[-1], target)


setup(ext_modules=[Extension("ormdb._ormdb", sources=[])], cmdclass={"build_ext": CMakeBuild})
