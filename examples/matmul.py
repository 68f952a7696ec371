"""Matrix multiplication: the seed kernel, checked against `x @ y`."""

import torch

import helion
import helion.language as hl


@helion.kernel()
def matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    k2, n = y.size()
    assert k == k2, f"size mismatch {k} != {k2}"
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


def check(m: int, k: int, n: int, device: str) -> None:
    dtype = torch.float16 if device == "cuda" else torch.float32
    x = torch.randn([m, k], device=device, dtype=dtype)
    y = torch.randn([k, n], device=device, dtype=dtype)
    result = matmul(x, y)
    expected = (x.float() @ y.float()).to(dtype)
    torch.testing.assert_close(result, expected, atol=1e-2, rtol=1e-2)
    print(f"matmul {m}x{k}x{n} {dtype} on {device}: matches torch")


if __name__ == "__main__":
    device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda":
        check(4096, 4096, 4096, device)
    else:
        check(128, 96, 64, device)
