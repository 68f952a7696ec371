# golden-args: {"x": "float32[33, 17]", "scale": "float"}
# golden-config: {"block_sizes": [16, 8]}
import torch
import helion
import helion.language as hl


@helion.kernel()
def inline_triton_snippets(x: torch.Tensor, scale: float) -> torch.Tensor:
    out = torch.empty_like(x)
    for i, j in hl.tile(x.size()):
        a = x[i, j]
        scaled = hl.inline_triton("{0} * {1}", [a, scale], output_like=a)
        out[i, j] = hl.inline_triton(
            """
            offset_0 = {value} + 1
            mask_0 = offset_0 > 0
            tl.where(mask_0, offset_0, 0.0)
            """,
            {"value": scaled},
            output_like=a,
        )
    return out
