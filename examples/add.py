"""Elementwise addition of two tensors, checked against `x + y`."""

import torch

import helion
import helion.language as hl


@helion.kernel()
def add(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(out.size()):
        out[tile] = x[tile] + y[tile]
    return out


if __name__ == "__main__":
    device = "cuda" if torch.cuda.is_available() else "cpu"
    shape = [4096, 4096] if device == "cuda" else [100, 70]
    x = torch.randn(shape, device=device)
    y = torch.randn(shape, device=device)
    torch.testing.assert_close(add(x, y), x + y)
    print(f"add {shape} on {device}: matches torch")
