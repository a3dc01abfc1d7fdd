"""Everything is declared in pyproject.toml; this only adds one build step: the
browser components in web/lib (which ComfyUI serves from the pack's web/ folder) are
copied into the wheel as pool_profiles/_web/lib, and the UI strings
(locales/<lang>/main.json) as pool_profiles/_web/locales, so `pip install . &&
pool-profiles serve` (non-editable) serves the very same files. A checkout, an editable
install and a clone in custom_nodes/ use web/lib and locales/ directly
(pool_profiles/server/webdir.py)."""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

WEB_LIB = Path(__file__).resolve().parent / "web" / "lib"
LOCALES = Path(__file__).resolve().parent / "locales"


class BuildPyWithWeb(build_py):
    def run(self):
        super().run()
        if getattr(self, "editable_mode", False):
            return  # an editable install reads web/lib where it is
        if not (WEB_LIB / "pool_grid.js").is_file():
            raise SystemExit(f"web/lib is missing from {WEB_LIB.parent.parent}: cannot build")
        target = Path(self.build_lib) / "pool_profiles" / "_web" / "lib"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        for src in sorted(WEB_LIB.glob("*.js")):
            shutil.copyfile(src, target / src.name)
        strings = Path(self.build_lib) / "pool_profiles" / "_web" / "locales"
        if strings.exists():
            shutil.rmtree(strings)
        for src in sorted(LOCALES.glob("*/main.json")):
            (strings / src.parent.name).mkdir(parents=True)
            shutil.copyfile(src, strings / src.parent.name / "main.json")


setup(cmdclass={"build_py": BuildPyWithWeb})
