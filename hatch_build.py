"""Hatchling build hook: compiles ``shareguard.detect._edmkernel``, the C
inner loops of exact data match, with the C compiler Python was built with.

A wheel gets the compiled module (and a platform tag); an editable install
(``uv sync``, ``make install``) gets it beside its source in ``src/``, where
the installed package is imported from.  Without a compiler the build fails
and says so: a scan would still work without the module (``edm`` falls back
to numpy), but several times slower at matching, and nobody would notice.
"""

from __future__ import annotations

import shlex
import shutil
import subprocess
import sysconfig
import tempfile
from pathlib import Path
from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SOURCE = Path("src/shareguard/detect/_edmkernel.c")
FLAGS = ["-O2", "-std=c11", "-fPIC", "-shared", "-Wall", "-Wextra", "-fvisibility=hidden"]


def compile_kernel(root: Path, out_dir: Path) -> Path:
    """Compile the kernel into ``out_dir``; the path of the module."""
    suffix = sysconfig.get_config_var("EXT_SUFFIX") or ".so"
    target = out_dir / f"_edmkernel{suffix}"
    compiler = shlex.split(sysconfig.get_config_var("CC") or "cc")
    if shutil.which(compiler[0]) is None:
        raise RuntimeError(
            f"no C compiler ({compiler[0]}) to build {SOURCE}: "
            "install gcc (Debian: build-essential)"
        )
    include = sysconfig.get_paths()["include"]
    command = [*compiler, *FLAGS, f"-I{include}", str(root / SOURCE), "-o", str(target)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"compiling {SOURCE} failed:\n{shlex.join(command)}\n{done.stderr}")
    return target


class CustomBuildHook(BuildHookInterface):
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if self.target_name != "wheel":
            return
        root = Path(self.root)
        build_data["pure_python"] = False
        build_data["infer_tag"] = True
        if version == "editable":
            compile_kernel(root, root / SOURCE.parent)
            return
        self._tmp = tempfile.TemporaryDirectory()
        built = compile_kernel(root, Path(self._tmp.name))
        build_data["force_include"][str(built)] = f"shareguard/detect/{built.name}"

    def finalize(self, version: str, build_data: dict[str, Any], artifact_path: str) -> None:
        tmp = getattr(self, "_tmp", None)
        if tmp is not None:
            tmp.cleanup()
