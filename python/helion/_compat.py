"""``helion._compat``: questions about the installed toolchain that users' kernels ask
when choosing their configs."""

from __future__ import annotations


def use_tileir_tunables() -> bool:
    """Whether kernels compile through the TileIR backend, whose config fields differ
    (no ``range_unroll_factors``/``range_num_stages``). Kernels here always compile
    through Triton, so it is False."""
    return False
