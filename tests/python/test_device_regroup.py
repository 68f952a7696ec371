"""Slices whose start is computed on the device, torch.stack, hl.join /
hl.split, and reshapes that merge or split dimensions of device values: what
unpacking two int4 values per int8 byte for a matmul needs."""

from __future__ import annotations

import pytest
import torch

import helion
import helion.language as hl
from helion import exc

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"


@helion.kernel(config=helion.Config(block_sizes=[4]))
def window(x: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
    m, _ = x.shape
    out = torch.zeros([m, 8], dtype=x.dtype, device=x.device)
    for tile in hl.tile(m):
        s = starts[0]
        out[tile, :] = x[tile, s:s + 8]
    return out


@pytest.mark.parametrize("start", [0, 5, 12, 17, -3, 40])
def test_slice_from_a_loaded_start_masks_lanes_outside(start: int) -> None:
    x = torch.randn(6, 20, device=DEVICE)
    padded = torch.nn.functional.pad(x, (48, 48))
    expected = padded[:, start + 48 : start + 56]
    result = window(x, torch.tensor([start], dtype=torch.int32, device=DEVICE))
    torch.testing.assert_close(result, expected)


@helion.kernel()
def pair_sums(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.shape
    out = torch.empty([n // 2], dtype=x.dtype, device=x.device)
    bs = hl.register_block_size(n // 2)
    for tile in hl.tile(n // 2, block_size=bs):
        first = tile.begin * 2
        both = x[first:first + bs * 2]
        pairs = both.reshape(tile.block_size, 2)
        lo, hi = hl.split(pairs)
        out[tile] = lo + hi * 10
    return out


@pytest.mark.parametrize("block", [4, 8, 16])
def test_slice_from_tile_begin_split_into_pairs(block: int) -> None:
    x = torch.randn(36, device=DEVICE)
    bound = pair_sums.bind((x,))
    bound.set_config(helion.Config(block_sizes=[block]))
    torch.testing.assert_close(bound(x), x[0::2] + x[1::2] * 10)


@helion.kernel(config=helion.Config(block_sizes=[8]))
def stacks(x: torch.Tensor, y: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    (n,) = x.shape
    pairs = torch.empty([n, 2], dtype=x.dtype, device=x.device)
    quads = torch.empty([4, n], dtype=torch.float32, device=x.device)
    for tile in hl.tile(n):
        a = x[tile]
        b = y[tile]
        pairs[tile, :] = torch.stack([a, b * 2], dim=1)
        quads[:, tile] = torch.stack([a, b.to(torch.int32), a * b, -a], dim=-2)
    return pairs, quads


def test_stack_of_two_and_four() -> None:
    x = torch.randn(20, device=DEVICE)
    y = torch.randn(20, device=DEVICE)
    pairs, quads = stacks(x, y)
    torch.testing.assert_close(pairs, torch.stack([x, y * 2], dim=1))
    torch.testing.assert_close(quads, torch.stack([x, y.to(torch.int32), x * y, -x], dim=0))


@helion.kernel()
def interleave(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    (n,) = x.shape
    out = torch.empty([2 * n], dtype=x.dtype, device=x.device)
    bs = hl.register_block_size(n)
    for tile in hl.tile(n, block_size=bs):
        joined = hl.join(x[tile], y[tile] + 0.5)
        first = tile.begin * 2
        out[first:first + bs * 2] = joined.reshape(-1)
    return out


@pytest.mark.parametrize("block", [2, 8])
def test_join_then_merge_interleaves(block: int) -> None:
    x = torch.randn(24, device=DEVICE)
    y = torch.randn(24, device=DEVICE)
    bound = interleave.bind((x, y))
    bound.set_config(helion.Config(block_sizes=[block]))
    torch.testing.assert_close(bound(x, y), torch.stack([x, y + 0.5], dim=1).reshape(-1))


@helion.kernel(static_shapes=False)
def matmul_int4(a: torch.Tensor, packed: torch.Tensor) -> torch.Tensor:
    m, k = a.shape
    _, n = packed.shape
    out = torch.zeros([m, n], dtype=torch.float32, device=a.device)
    bk = hl.register_block_size(k // 2)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k // 2, block_size=bk):
            first = tile_k.begin * 2
            a_tile = a[tile_m, first:first + bk * 2]
            b = packed[tile_k, tile_n]
            lo = (b & 0xF).to(torch.int32)
            lo = torch.where(lo >= 8, lo - 16, lo)
            hi = (b >> 4).to(torch.int32)
            both = torch.stack([lo.to(a.dtype), hi.to(a.dtype)], dim=1)
            unpacked = both.reshape(tile_k.block_size * 2, tile_n.block_size)
            acc = hl.dot(a_tile, unpacked, acc=acc)
        out[tile_m, tile_n] = acc
    return out


def _int4_case(m: int, k: int, n: int, dtype: torch.dtype) -> tuple[torch.Tensor, ...]:
    a = torch.randn(m, k, device=DEVICE).to(dtype)
    values = torch.randint(-8, 8, (k, n), dtype=torch.int8, device=DEVICE)
    packed = ((values[1::2] << 4) | (values[0::2] & 0xF)).to(torch.int8)
    return a, packed, a.float() @ values.float()


@pytest.mark.parametrize(
    ("shape", "block_sizes"),
    [((16, 64, 32), [[8], [16, 16]]), ((20, 96, 24), [[16], [16, 16]]),
     ((16, 64, 32), [[32], [16, 32]]), ((16, 80, 32), [[16], [16, 16]])],
)
def test_int4_unpack_matmul(shape: tuple[int, int, int], block_sizes: list) -> None:
    a, packed, expected = _int4_case(*shape, torch.float32)
    bound = matmul_int4.bind((a, packed))
    bound.set_config(helion.Config(block_sizes=block_sizes))
    torch.testing.assert_close(bound(a, packed), expected, rtol=1e-3, atol=1e-3)


def test_int4_default_config_lifts_the_block_to_a_matmul_minimum() -> None:
    # The merged dim (2 * bk) feeds a matmul, so bk's smallest value is 8.
    a, packed, _ = _int4_case(16, 64, 32, torch.float32)
    spec = matmul_int4.bind((a, packed)).config_spec
    with pytest.raises(exc.InvalidConfig, match="block_sizes"):
        spec.normalize(helion.Config(block_sizes=[[4], [16, 16]]))


@pytest.mark.gpu
def test_int4_unpack_matmul_bfloat16_on_gpu() -> None:
    a, packed, expected = _int4_case(64, 128, 64, torch.bfloat16)
    torch.testing.assert_close(matmul_int4(a, packed), expected, rtol=2e-2, atol=5e-1)


@helion.kernel(config=helion.Config(block_sizes=[8]))
def bad_slice(x: torch.Tensor, starts: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0), 8], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        s = starts[0]
        e = starts[1]
        out[tile, :] = x[tile, s:e]
    return out


@helion.kernel(config=helion.Config(block_sizes=[8]))
def stack_of_three(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0), 4], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        v = x[tile]
        out[tile, 0:3] = torch.stack([v, v, v], dim=1)
    return out


@helion.kernel(config=helion.Config(block_sizes=[8]))
def split_of_three(x: torch.Tensor) -> torch.Tensor:
    out = torch.zeros([x.size(0)], dtype=x.dtype, device=x.device)
    for tile in hl.tile(x.size(0)):
        a, b = hl.split(x[tile, :])
        out[tile] = a + b
    return out


@helion.kernel(config=helion.Config(block_sizes=[8, 8]))
def merge_unregistered(x: torch.Tensor) -> torch.Tensor:
    m, n = x.shape
    out = torch.zeros([m * n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        out[tile_m] = x[tile_m, tile_n].reshape(-1)
    return out


@pytest.mark.parametrize(
    ("kernel", "args", "error", "words"),
    [
        (bad_slice, (torch.randn(8, 16), torch.tensor([0, 8], dtype=torch.int32)),
         exc.UnsupportedSyntax, "x[..., a:a + n]"),
        (stack_of_three, (torch.randn(8),), exc.UnsupportedOp, "power of two"),
        (split_of_three, (torch.randn(8, 3),), exc.ShapeMismatch, "last dimension has size 2"),
        (merge_unregistered, (torch.randn(8, 8),), exc.UnsupportedOp,
         "sizes are known when compiling"),
    ],
    ids=["slice-length-unknown", "stack-of-three", "split-not-two", "merge-unknown-sizes"],
)
def test_clear_errors(kernel: helion.Kernel, args: tuple, error: type, words: str) -> None:
    with pytest.raises(error) as raised:
        kernel(*[a.to(DEVICE) for a in args])
    message = str(raised.value)
    assert words in message, message
    assert f"in kernel '{kernel.name}'" in message, message


@helion.kernel(config=helion.Config(block_sizes=[8]))
def join_split(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        lo, hi = hl.split(hl.join(x[tile], y[tile] * 3))
        out[tile] = lo - hi
    return out


@pytest.mark.parametrize("ref_mode", [False, True], ids=["compiled", "ref-mode"])
def test_join_split_round_trip(ref_mode: bool) -> None:
    x = torch.randn(20, device=DEVICE)
    y = torch.randn(20, device=DEVICE)
    kernel = join_split
    if ref_mode:
        kernel = helion.kernel(ref_mode=helion.RefMode.EAGER)(join_split.fn)
        assert kernel.settings.ref_mode == helion.RefMode.EAGER
    torch.testing.assert_close(kernel(x, y), x - y * 3)
