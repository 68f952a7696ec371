"""Sum of each row, checked against `x.sum(-1)`."""

import torch

import helion
import helion.language as hl


@helion.kernel()
def row_sum(x: torch.Tensor) -> torch.Tensor:
    m, _n = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = x[tile_m, :].sum(-1)
    return out


if __name__ == "__main__":
    device = "cuda" if torch.cuda.is_available() else "cpu"
    shape = [4096, 8192] if device == "cuda" else [50, 300]
    x = torch.randn(shape, device=device)
    torch.testing.assert_close(row_sum(x), x.sum(-1), rtol=1e-4, atol=1e-4)
    print(f"row sum {shape} on {device}: matches torch")
