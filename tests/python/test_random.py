"""hl.rand / hl.randint: the same numbers whatever the config (offsets are
positions over the whole shape), matching ref mode bit for bit."""

from __future__ import annotations

import torch

import helion
import helion.language as hl

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@helion.kernel(configs=[helion.Config(block_sizes=[b, c]) for b, c in ((2, 16), (8, 64))])
def noise(x: torch.Tensor, seed: int) -> tuple[torch.Tensor, torch.Tensor]:
    m, n = x.size()
    uniform = torch.empty_like(x)
    ints = torch.empty([m, n], dtype=torch.int32, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        uniform[tile_m, tile_n] = hl.rand([tile_m, tile_n], seed=seed)
        ints[tile_m, tile_n] = hl.randint([tile_m, tile_n], 3, 9, seed)
    return uniform, ints


def test_random_numbers_do_not_depend_on_the_config() -> None:
    x = torch.empty(37, 91, device=DEVICE)
    results = [noise.bind((x, 7)).compile_config(c)(x, 7) for c in noise.configs]
    (u0, i0), (u1, i1) = results
    assert torch.equal(u0, u1) and torch.equal(i0, i1)
    assert 0.0 <= float(u0.min()) and float(u0.max()) < 1.0
    assert abs(float(u0.mean()) - 0.5) < 0.02
    assert int(i0.min()) >= 3 and int(i0.max()) < 9
    other_seed = noise.bind((x, 8)).compile_config(noise.configs[0])(x, 8)[0]
    assert not torch.equal(u0, other_seed)


@helion.kernel(config=helion.Config(block_sizes=[32]))
def dropout(x: torch.Tensor, p: float, seed: int) -> torch.Tensor:
    (n,) = x.size()
    out = torch.empty_like(x)
    for tile in hl.tile(n):
        keep = hl.rand([tile], seed=seed) > p
        out[tile] = torch.where(keep, x[tile] / (1 - p), 0.0)
    return out


def test_dropout_matches_ref_mode() -> None:
    x = torch.randn(1000, device=DEVICE)
    compiled = dropout(x, 0.25, 123)
    reference = dropout.run_ref(x, 0.25, 123)
    torch.testing.assert_close(compiled, reference)
    kept = (compiled != 0).float().mean()
    assert 0.7 < float(kept) < 0.8
