"""Adds ``./conf`` of the current folder to ``calibrax-run``'s config search path.

Hydra discovers this plugin in the ``hydra_plugins`` namespace package. It acts only on
calibrax's own app (whose primary config folder is calibrax's ``conf/``), so other Hydra apps
in the same environment are unaffected.
"""

from __future__ import annotations

from hydra.core.config_search_path import ConfigSearchPath
from hydra.plugins.search_path_plugin import SearchPathPlugin


class CalibraxUserConfSearchPath(SearchPathPlugin):
    """Prepend ``file://<cwd>/conf`` when running calibrax-run in a folder that has one."""

    def manipulate_search_path(self, search_path: ConfigSearchPath) -> None:
        from calibrax.runner.catalog import package_conf_dir, user_conf_dir

        ours = str(package_conf_dir())
        if not any(str(e.path).rstrip("/").endswith(ours) for e in search_path.get_path()):
            return
        user = user_conf_dir()
        if user is not None:
            search_path.prepend(provider="calibrax-user", path=f"file://{user}")
