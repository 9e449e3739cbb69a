"""Builds eddy's Python package: the extension eddy._core compiled from this
repository's C sources (every *.c of core/, detectors/ and learners/, as the
Makefile's build/libeddy.a holds them) against the Debian libraries
pkg-config finds.

Sources, not build/libeddy.a: that archive is built without -fPIC (it cannot
go into a shared object), and compiling the sources here needs no `make`
first. Build from the clone (pip builds ./python in place)."""
import os
import re
import shlex
from concurrent.futures import ThreadPoolExecutor
import subprocess
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
MAKEFILE = (ROOT / "Makefile").read_text() if (ROOT / "Makefile").exists() else ""


def makefile_var(name):
    m = re.search(rf"^{name}\s*:=\s*(.+)$", MAKEFILE, re.M)
    if not m:
        raise SystemExit(f"setup.py: no {name} line in {ROOT / 'Makefile'}: build from the eddy clone")
    return m.group(1)


# The layers eddy._core needs (HACKING.md's map: learners include only core
# and detectors), each of the Makefile's DIRS: what build/libeddy.a holds of
# them, the programs' files (LIB_SRC's filter-out) left out. The stream
# engine and the connectors stay out: the extension needs neither.
LAYERS = ("core", "detectors", "learners")
DIRS = [d for d in makefile_var("DIRS").split() if d in LAYERS]
if sorted(DIRS) != sorted(LAYERS):
    raise SystemExit(f"setup.py: the Makefile's DIRS lack one of {LAYERS}: build from the eddy clone")
EXCLUDE = set(re.findall(r"filter-out\s+([^,]+),", makefile_var("LIB_SRC"))[0].split()) \
    if "filter-out" in makefile_var("LIB_SRC") else set()


def makefile_pkgs():
    """The pkg-config packages the Makefile links (its PKGS line)."""
    return makefile_var("PKGS").split()


def pkg_config(*args):
    try:
        out = subprocess.run(["pkg-config", *args], check=True, capture_output=True, text=True)
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"setup.py: pkg-config {' '.join(args)} failed ({e}); run 'make deps'")
    return shlex.split(out.stdout)


def sources():
    found = []
    for d in DIRS:
        for p in sorted((ROOT / d).rglob("*.c")):
            rel = p.relative_to(ROOT).as_posix()
            if rel not in EXCLUDE:
                found.append(str(p))
    if not found:
        raise SystemExit(f"setup.py: no C sources under {ROOT}: build from the eddy clone")
    return found


pkgs = makefile_pkgs()
cflags = pkg_config("--cflags", *pkgs)
# what the Makefile's PKG_LIBS adds after pkg-config's (-lhttp_parser)
_extra = re.search(r"^PKG_LIBS\s*=.*\)\s*(.*)$", MAKEFILE, re.M)
libs = pkg_config("--libs", *pkgs) + (_extra.group(1).split() if _extra else []) + ["-lm"]

FLAGS = ["-std=gnu11", "-O2", "-pthread", "-Wall", "-Wextra", "-Werror",
         "-Wno-missing-field-initializers"] + cflags


class BuildCore(build_ext):
    """Compiles the repository's C sources (outside this folder, which
    setup() arguments may not name) into objects linked into eddy._core."""

    def build_extension(self, ext):
        out = os.path.join(self.build_temp, "core")

        def compile_one(src):
            return self.compiler.compile([src], output_dir=out, include_dirs=[str(ROOT)],
                                         extra_postargs=FLAGS)

        # two compilers at a time (the machines are shared); order kept
        with ThreadPoolExecutor(max_workers=2) as pool:
            objects = [o for objs in pool.map(compile_one, sources()) for o in objs]
        ext.extra_objects = objects
        super().build_extension(ext)


core = Extension(
    "eddy._core",
    sources=["eddy/_core.c"],
    include_dirs=[str(ROOT)],
    extra_compile_args=FLAGS,
    extra_link_args=["-pthread"] + libs,
)

setup(ext_modules=[core], cmdclass={"build_ext": BuildCore})
