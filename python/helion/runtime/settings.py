"""``helion.runtime.settings``: where Helion's own modules read settings from.

Users' code imports ``_get_backend`` from here to choose between kernels written
for different backends.
"""

from __future__ import annotations

from .._settings import Settings

__all__ = ["Settings"]


def _get_backend() -> str:
    """The backend kernels compile for by default: the ``backend`` setting as
    ``HELION_BACKEND`` sets it (``"triton"`` unless the environment says
    otherwise; a kernel decorated for another backend raises UnsupportedSetting)."""
    return Settings().backend
