"""Generated kernels, run end to end and compared with PyTorch eager.

Every test runs on the CPU under Triton's interpreter and, when a GPU is
present, on the GPU (the ``device`` fixture). Each kernel body (see
``kernels.py``) is compiled with several explicit configs: all indexing modes,
persistent and looped reductions, loop orders, L2 grouping, the y/z grid, 1-D
and N-D block sizes, and dynamic as well as static shapes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl

# --- helpers --------------------------------------------------------------------


def compile_with(fn: Callable[..., Any], config: dict[str, Any], **settings: Any) -> helion.Kernel:
    """``fn`` as a kernel that uses exactly ``config``."""
    return helion.kernel(config=helion.Config(**config), **settings)(fn)


def fit(
    fn: Callable[..., Any], args: Sequence[Any], config: dict[str, Any], **settings: Any
) -> dict[str, Any]:
    """``config`` with block sizes no larger than the tensors need.

    Lets one list of configs serve every shape; what happens with blocks
    larger than a tensor is tested on its own below.
    """
    spec = helion.kernel(autotune_effort="none", **settings)(fn).bind(args).config_spec.describe()
    fitted = dict(config)
    blocks = []
    for entry, block_spec in zip(config["block_sizes"], spec["block_sizes"]):
        if isinstance(entry, list):
            entry = [min(size, top) for size, top in zip(entry, block_spec["max"])]
        elif block_spec["dims"] == 1:
            entry = min(entry, block_spec["max"][0])
        blocks.append(entry)
    fitted["block_sizes"] = blocks
    if "reduction_loops" in config:
        loops = list(config["reduction_loops"])
        reductions = spec["reduction_loops"]
        loops += [None] * (len(reductions) - len(loops))
        fitted["reduction_loops"] = [
            None if size is None or size >= r["persistent_block"] else size
            for size, r in zip(loops, reductions)
        ]
    return fitted


def run(
    fn: Callable[..., Any], args: Sequence[Any], config: dict[str, Any], **settings: Any
) -> Any:
    """Compiles ``fn`` with ``config`` (fitted to ``args``' shapes) and runs it."""
    return compile_with(fn, fit(fn, args, config, **settings), **settings)(*args)


def tolerances(dtype: torch.dtype, device: str, *, dot: bool = False) -> dict[str, float]:
    if dtype == torch.float16:
        return {"atol": 2e-2, "rtol": 2e-2}
    if dtype == torch.bfloat16:
        return {"atol": 5e-2, "rtol": 5e-2}
    if dot and device == "cuda":
        # tf32 dots on the GPU (the default dot_precision).
        return {"atol": 5e-2, "rtol": 1e-2}
    return {"atol": 1e-5, "rtol": 1e-5}


def check(result: torch.Tensor, expected: torch.Tensor, **tol: float) -> None:
    assert isinstance(result, torch.Tensor), f"expected a tensor, got {type(result).__name__}"
    assert result.shape == expected.shape, f"shape {tuple(result.shape)} != {tuple(expected.shape)}"
    assert result.dtype == expected.dtype, f"dtype {result.dtype} != {expected.dtype}"
    assert result.device == expected.device
    torch.testing.assert_close(result, expected, **tol)


def randn(*shape: int, device: str, dtype: torch.dtype = torch.float32) -> torch.Tensor:
    return torch.randn(shape, device=device, dtype=dtype)


INDEXING = ["pointer", "block_ptr", "tensor_descriptor"]


def _id(value: Any) -> str:
    if isinstance(value, dict):
        return "-".join(f"{k}={v}" for k, v in value.items()).replace(" ", "")
    if isinstance(value, tuple):
        return "x".join(str(v) for v in value)
    return str(value)


# --- elementwise add ---------------------------------------------------------------

ADD_2D_CONFIGS = [
    {"block_sizes": [[16, 16]]},
    {"block_sizes": [[16, 16]], "indexing": "block_ptr"},
    {"block_sizes": [[16, 32]], "indexing": "tensor_descriptor"},
    {"block_sizes": [[16, 16]], "loop_orders": [[1, 0]]},
    {"block_sizes": [[16, 16]], "loop_orders": [[1, 0]], "indexing": "block_ptr"},
    {"block_sizes": [[16, 16]], "l2_grouping": 4},
    {"block_sizes": [[16, 16]], "use_yz_grid": True},
    {"block_sizes": [[1, 32]], "num_warps": 1},
    {"block_sizes": [[32, 1]], "num_warps": 2, "num_stages": 1},
]

ADD_2D_SHAPES = [(64, 64), (37, 19), (1, 50), (50, 1), (5, 3)]


@pytest.mark.parametrize("config", ADD_2D_CONFIGS, ids=_id)
@pytest.mark.parametrize("shape", ADD_2D_SHAPES, ids=_id)
def test_add_tile_size(device: str, shape: tuple[int, int], config: dict[str, Any]) -> None:
    torch.manual_seed(0)
    x, y = randn(*shape, device=device), randn(*shape, device=device)
    check(run(K.add, (x, y), config), x + y)


@pytest.mark.parametrize("config", ADD_2D_CONFIGS, ids=_id)
@pytest.mark.parametrize("shape", [(64, 48), (37, 19), (1, 1)], ids=_id)
def test_add_tile_list(device: str, shape: tuple[int, int], config: dict[str, Any]) -> None:
    torch.manual_seed(1)
    x, y = randn(*shape, device=device), randn(*shape, device=device)
    check(run(K.add_2d_list, (x, y), config), x + y)


ADD_1D_CONFIGS = [
    {"block_sizes": [32]},
    {"block_sizes": [[16]]},
    {"block_sizes": [16], "indexing": "block_ptr"},
    {"block_sizes": [32], "indexing": "tensor_descriptor"},
    {"block_sizes": [1]},
    {"block_sizes": [128], "num_warps": 1},
]


@pytest.mark.parametrize("config", ADD_1D_CONFIGS, ids=_id)
@pytest.mark.parametrize("n", [128, 100, 1, 7])
@pytest.mark.parametrize("body", [K.add, K.add_1d], ids=["tile_size", "tile_n"])
def test_add_1d(device: str, body: Callable[..., Any], n: int, config: dict[str, Any]) -> None:
    torch.manual_seed(2)
    x, y = randn(n, device=device), randn(n, device=device)
    check(run(body, (x, y), config), x + y)


@pytest.mark.parametrize("indexing", INDEXING)
def test_add_float16(device: str, indexing: str) -> None:
    torch.manual_seed(3)
    x = randn(48, 80, device=device, dtype=torch.float16)
    y = randn(48, 80, device=device, dtype=torch.float16)
    result = run(K.add, (x, y), {"block_sizes": [[16, 16]], "indexing": indexing})
    check(result, x + y, **tolerances(torch.float16, device))


# --- dynamic shapes -----------------------------------------------------------------


@pytest.mark.parametrize("indexing", INDEXING)
def test_add_dynamic_shapes_reuse_one_kernel(device: str, indexing: str) -> None:
    torch.manual_seed(4)
    kern = compile_with(
        K.add, {"block_sizes": [[16, 16]], "indexing": indexing}, static_shapes=False
    )
    for shape in [(64, 48), (37, 19), (16, 130), (1, 20), (20, 1), (1, 1)]:
        x, y = randn(*shape, device=device), randn(*shape, device=device)
        check(kern(x, y), x + y)


def test_add_dynamic_shapes_one_specialization_for_large_sizes(device: str) -> None:
    kern = compile_with(K.add, {"block_sizes": [[16, 16]]}, static_shapes=False)
    a = kern.bind((randn(64, 48, device=device), randn(64, 48, device=device)))
    b = kern.bind((randn(37, 19, device=device), randn(37, 19, device=device)))
    assert a is b
    static = compile_with(K.add, {"block_sizes": [[16, 16]]})
    c = static.bind((randn(64, 48, device=device), randn(64, 48, device=device)))
    d = static.bind((randn(37, 19, device=device), randn(37, 19, device=device)))
    assert c is not d


def test_add_dynamic_shapes_non_contiguous(device: str) -> None:
    torch.manual_seed(5)
    kern = compile_with(K.add, {"block_sizes": [[16, 16]]}, static_shapes=False)
    base = randn(40, 64, device=device)
    x = base[:, ::2]
    y = randn(32, 40, device=device).t()
    check(kern(x, y), x + y)
    x2, y2 = randn(40, 32, device=device), randn(40, 32, device=device)
    check(kern(x2, y2), x2 + y2)


def test_add_static_shapes_non_contiguous(device: str) -> None:
    torch.manual_seed(6)
    x = randn(40, 64, device=device)[:, ::2]
    y = randn(32, 40, device=device).t()
    check(run(K.add, (x, y), {"block_sizes": [[16, 16]]}), x + y)


# --- matmul ----------------------------------------------------------------------------

MATMUL_BODIES = [K.matmul, K.matmul_matmul_op, K.matmul_torch_matmul, K.matmul_mm]
MATMUL_IDS = ["addmm", "at_operator", "torch_matmul", "torch_mm"]

MATMUL_CONFIGS = [
    {"block_sizes": [[16, 16], [16]]},
    {"block_sizes": [[16, 16], [16]], "indexing": "block_ptr"},
    {"block_sizes": [[16, 16], [16]], "indexing": "tensor_descriptor"},
    {"block_sizes": [[32, 16], [32]], "loop_orders": [[1, 0]]},
    {"block_sizes": [[16, 16], [16]], "l2_grouping": 4},
    {"block_sizes": [[16, 32], [16]], "l2_grouping": 4, "indexing": "block_ptr"},
    {"block_sizes": [[16, 16], [16]], "use_yz_grid": True},
    {"block_sizes": [[16, 16], [32]], "num_warps": 2, "num_stages": 1},
]

MATMUL_SHAPES = [(64, 64, 64), (127, 65, 33), (1, 32, 1), (5, 7, 3), (16, 1, 48)]


@pytest.mark.parametrize("config", MATMUL_CONFIGS, ids=_id)
@pytest.mark.parametrize("mkn", [(64, 64, 64), (127, 65, 33)], ids=_id)
def test_matmul_configs(device: str, mkn: tuple[int, int, int], config: dict[str, Any]) -> None:
    torch.manual_seed(10)
    m, k, n = mkn
    x, y = randn(m, k, device=device), randn(k, n, device=device)
    result = run(K.matmul, (x, y), config)
    check(result, x @ y, **tolerances(torch.float32, device, dot=True))


@pytest.mark.parametrize("mkn", MATMUL_SHAPES, ids=_id)
@pytest.mark.parametrize("body", MATMUL_BODIES, ids=MATMUL_IDS)
def test_matmul_forms(device: str, body: Callable[..., Any], mkn: tuple[int, int, int]) -> None:
    torch.manual_seed(11)
    m, k, n = mkn
    x, y = randn(m, k, device=device), randn(k, n, device=device)
    result = run(body, (x, y), {"block_sizes": [[16, 16], [16]]})
    check(result, x @ y, **tolerances(torch.float32, device, dot=True))


@pytest.mark.parametrize("indexing", INDEXING)
@pytest.mark.parametrize("body", MATMUL_BODIES, ids=MATMUL_IDS)
def test_matmul_float16(device: str, body: Callable[..., Any], indexing: str) -> None:
    torch.manual_seed(12)
    x = randn(48, 64, device=device, dtype=torch.float16)
    y = randn(64, 32, device=device, dtype=torch.float16)
    result = run(body, (x, y), {"block_sizes": [[16, 16], [32]], "indexing": indexing})
    expected = (x.float() @ y.float()).to(torch.float16)
    check(result, expected, **tolerances(torch.float16, device))


@pytest.mark.parametrize("indexing", INDEXING)
def test_matmul_dynamic_shapes(device: str, indexing: str) -> None:
    torch.manual_seed(13)
    kern = compile_with(
        K.matmul,
        {"block_sizes": [[16, 16], [16]], "indexing": indexing},
        static_shapes=False,
    )
    for m, k, n in [(64, 64, 64), (48, 40, 24), (1, 32, 1), (5, 7, 3)]:
        x, y = randn(m, k, device=device), randn(k, n, device=device)
        check(kern(x, y), x @ y, **tolerances(torch.float32, device, dot=True))


def test_matmul_bind_and_set_config(device: str) -> None:
    torch.manual_seed(14)
    kern = helion.kernel(autotune_effort="none")(K.matmul)
    x, y = randn(127, 65, device=device), randn(65, 33, device=device)
    bound = kern.bind((x, y))
    for config in MATMUL_CONFIGS[:4]:
        bound.set_config(helion.Config(**config))
        check(bound(x, y), x @ y, **tolerances(torch.float32, device, dot=True))
        check(kern(x, y), x @ y, **tolerances(torch.float32, device, dot=True))


def test_matmul_size_mismatch_is_caught(device: str) -> None:
    kern = compile_with(K.matmul, {"block_sizes": [[16, 16], [16]]})
    x, y = randn(16, 32, device=device), randn(24, 16, device=device)
    with pytest.raises((helion.exc.Base, AssertionError)):
        kern(x, y)


# --- softmax and other reductions -------------------------------------------------------

REDUCTION_CONFIGS = [
    {"block_sizes": [16]},
    {"block_sizes": [[16]], "reduction_loops": [None]},
    {"block_sizes": [16], "reduction_loops": [16]},
    {"block_sizes": [8], "reduction_loops": [32]},
    {"block_sizes": [16], "reduction_loops": [None], "indexing": "block_ptr"},
    {"block_sizes": [16], "reduction_loops": [32], "indexing": "block_ptr"},
    {"block_sizes": [16], "reduction_loops": [None], "indexing": "tensor_descriptor"},
    {"block_sizes": [16], "reduction_loops": [16], "indexing": "tensor_descriptor"},
    {"block_sizes": [1], "reduction_loops": [32]},
    {"block_sizes": [32], "num_warps": 1, "use_yz_grid": True},
]

REDUCTION_SHAPES = [(64, 100), (37, 64), (1, 33), (33, 1), (5, 7)]


@pytest.mark.parametrize("config", REDUCTION_CONFIGS, ids=_id)
@pytest.mark.parametrize("shape", REDUCTION_SHAPES, ids=_id)
def test_softmax(device: str, shape: tuple[int, int], config: dict[str, Any]) -> None:
    torch.manual_seed(20)
    x = randn(*shape, device=device) * 3
    check(run(K.softmax, (x,), config), torch.softmax(x, dim=1), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("config", REDUCTION_CONFIGS, ids=_id)
@pytest.mark.parametrize("shape", [(64, 100), (1, 33), (33, 1)], ids=_id)
def test_row_sum(device: str, shape: tuple[int, int], config: dict[str, Any]) -> None:
    torch.manual_seed(21)
    x = randn(*shape, device=device)
    check(run(K.row_sum, (x,), config), x.sum(-1), atol=1e-4, rtol=1e-4)


@pytest.mark.parametrize("config", REDUCTION_CONFIGS[:6], ids=_id)
@pytest.mark.parametrize("shape", [(64, 100), (1, 33), (33, 1)], ids=_id)
def test_row_mean_keepdim(device: str, shape: tuple[int, int], config: dict[str, Any]) -> None:
    torch.manual_seed(22)
    x = randn(*shape, device=device)
    check(run(K.row_mean_keepdim, (x,), config), x.mean(-1, keepdim=True), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("config", REDUCTION_CONFIGS[:6], ids=_id)
@pytest.mark.parametrize("shape", [(64, 100), (1, 33), (33, 1)], ids=_id)
def test_center_rows_keepdim(device: str, shape: tuple[int, int], config: dict[str, Any]) -> None:
    torch.manual_seed(23)
    x = randn(*shape, device=device)
    check(run(K.center_rows, (x,), config), x - x.mean(-1, keepdim=True), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("config", REDUCTION_CONFIGS, ids=_id)
@pytest.mark.parametrize("shape", [(33, 130), (64, 64), (1, 16), (7, 1)], ids=_id)
def test_rms_norm(device: str, shape: tuple[int, int], config: dict[str, Any]) -> None:
    torch.manual_seed(24)
    x = randn(*shape, device=device)
    weight = randn(shape[1], device=device)
    check(run(K.rms_norm, (x, weight), config), K.rms_norm_ref(x, weight), atol=1e-5, rtol=1e-4)


def test_rms_norm_eps_argument(device: str) -> None:
    torch.manual_seed(25)
    x = randn(16, 48, device=device) * 1e-3
    weight = randn(48, device=device)
    kern = compile_with(K.rms_norm, {"block_sizes": [16], "reduction_loops": [16]})
    check(kern(x, weight, 1e-2), K.rms_norm_ref(x, weight, 1e-2), atol=1e-5, rtol=1e-4)
    check(kern(x, weight), K.rms_norm_ref(x, weight), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize(
    "config",
    [
        {"block_sizes": [16], "reduction_loops": [None]},
        {"block_sizes": [16], "reduction_loops": [16]},
        {"block_sizes": [16], "reduction_loops": [32], "indexing": "block_ptr"},
        {"block_sizes": [16], "reduction_loops": [None], "indexing": "tensor_descriptor"},
        {"block_sizes": [16], "reduction_loops": [None], "indexing": "block_ptr"},
        {"block_sizes": [16], "reduction_loops": [32], "indexing": "tensor_descriptor"},
    ],
    ids=_id,
)
def test_float16_reductions(device: str, config: dict[str, Any]) -> None:
    torch.manual_seed(26)
    tol = tolerances(torch.float16, device)
    x = randn(40, 96, device=device, dtype=torch.float16)
    weight = randn(96, device=device, dtype=torch.float16)
    check(run(K.softmax, (x,), config), torch.softmax(x.float(), dim=1).half(), **tol)
    check(run(K.softmax_fp32_math, (x,), config), torch.softmax(x.float(), dim=1).half(), **tol)
    check(run(K.rms_norm, (x, weight), config), K.rms_norm_ref(x, weight), **tol)
    check(run(K.row_sum, (x,), config), x.float().sum(-1).half(), atol=5e-2, rtol=2e-2)


@pytest.mark.parametrize(
    "config",
    [
        {"block_sizes": [16], "reduction_loops": [None]},
        {"block_sizes": [16], "reduction_loops": [32]},
        {"block_sizes": [16], "reduction_loops": [16], "indexing": "block_ptr"},
        {"block_sizes": [16], "reduction_loops": [None], "indexing": "tensor_descriptor"},
    ],
    ids=_id,
)
def test_reductions_dynamic_shapes(device: str, config: dict[str, Any]) -> None:
    torch.manual_seed(27)
    softmax = compile_with(K.softmax, config, static_shapes=False)
    norm = compile_with(K.rms_norm, config, static_shapes=False)
    for shape in [(64, 100), (37, 64), (16, 16), (1, 33)]:
        x = randn(*shape, device=device)
        weight = randn(shape[1], device=device)
        check(softmax(x), torch.softmax(x, dim=1), atol=1e-5, rtol=1e-4)
        check(norm(x, weight), K.rms_norm_ref(x, weight), atol=1e-5, rtol=1e-4)


# --- pointwise chains, broadcasting, several outputs ------------------------------------

POINTWISE_CONFIGS = [
    {"block_sizes": [[16, 16]]},
    {"block_sizes": [[16, 16]], "indexing": "block_ptr"},
    {"block_sizes": [[16, 16]], "indexing": "tensor_descriptor"},
    {"block_sizes": [[16, 32]], "loop_orders": [[1, 0]], "l2_grouping": 4},
    {"block_sizes": [[16, 16]], "use_yz_grid": True},
]


@pytest.mark.parametrize("config", POINTWISE_CONFIGS, ids=_id)
@pytest.mark.parametrize("shape", [(48, 64), (37, 19), (1, 5)], ids=_id)
def test_pointwise_chain(device: str, shape: tuple[int, int], config: dict[str, Any]) -> None:
    torch.manual_seed(30)
    x, y = randn(*shape, device=device), randn(*shape, device=device)
    check(run(K.pointwise_chain, (x, y), config), K.pointwise_chain_ref(x, y), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("indexing", INDEXING)
def test_pointwise_chain_float16(device: str, indexing: str) -> None:
    torch.manual_seed(31)
    x = randn(32, 48, device=device, dtype=torch.float16)
    y = randn(32, 48, device=device, dtype=torch.float16)
    result = run(K.pointwise_chain, (x, y), {"block_sizes": [[16, 16]], "indexing": indexing})
    check(result, K.pointwise_chain_ref(x, y), **tolerances(torch.float16, device))


def test_pointwise_chain_dynamic_shapes(device: str) -> None:
    torch.manual_seed(32)
    kern = compile_with(K.pointwise_chain, {"block_sizes": [[16, 16]]}, static_shapes=False)
    for shape in [(48, 64), (37, 19)]:
        x, y = randn(*shape, device=device), randn(*shape, device=device)
        check(kern(x, y), K.pointwise_chain_ref(x, y), atol=1e-5, rtol=1e-5)


@pytest.mark.parametrize("config", POINTWISE_CONFIGS, ids=_id)
@pytest.mark.parametrize("shape", [(48, 64), (37, 19), (1, 20), (20, 1)], ids=_id)
def test_broadcast_row_and_column(
    device: str, shape: tuple[int, int], config: dict[str, Any]
) -> None:
    torch.manual_seed(33)
    m, n = shape
    x = randn(m, n, device=device)
    row_scale, col_bias = randn(m, device=device), randn(n, device=device)
    expected = x * row_scale[:, None] + col_bias[None, :]
    check(run(K.scale_shift, (x, row_scale, col_bias), config), expected)


def test_broadcast_dynamic_shapes(device: str) -> None:
    torch.manual_seed(34)
    kern = compile_with(K.scale_shift, {"block_sizes": [[16, 16]]}, static_shapes=False)
    for m, n in [(48, 64), (37, 19)]:
        x = randn(m, n, device=device)
        row_scale, col_bias = randn(m, device=device), randn(n, device=device)
        check(kern(x, row_scale, col_bias), x * row_scale[:, None] + col_bias[None, :])


@pytest.mark.parametrize("config", POINTWISE_CONFIGS, ids=_id)
def test_two_outputs(device: str, config: dict[str, Any]) -> None:
    torch.manual_seed(35)
    x, y = randn(37, 40, device=device), randn(37, 40, device=device)
    result = run(K.sum_and_diff, (x, y), config)
    assert isinstance(result, tuple) and len(result) == 2
    check(result[0], x + y)
    check(result[1], x - y)


def test_two_outputs_float16_dynamic(device: str) -> None:
    torch.manual_seed(36)
    kern = compile_with(K.sum_and_diff, {"block_sizes": [[16, 16]]}, static_shapes=False)
    for shape in [(32, 48), (17, 33)]:
        x = randn(*shape, device=device, dtype=torch.float16)
        y = randn(*shape, device=device, dtype=torch.float16)
        total, diff = kern(x, y)
        check(total, x + y, **tolerances(torch.float16, device))
        check(diff, x - y, **tolerances(torch.float16, device))


# --- generated code ------------------------------------------------------------------------

CODE_CASES = [
    (K.add, lambda d: (randn(37, 19, device=d), randn(37, 19, device=d)), ADD_2D_CONFIGS[:7]),
    (
        K.matmul,
        lambda d: (randn(127, 65, device=d), randn(65, 33, device=d)),
        MATMUL_CONFIGS[:8],
    ),
    (K.softmax, lambda d: (randn(64, 100, device=d),), REDUCTION_CONFIGS),
    (K.rms_norm, lambda d: (randn(33, 130, device=d), randn(130, device=d)), REDUCTION_CONFIGS[:6]),
]


@pytest.mark.parametrize("static_shapes", [True, False])
@pytest.mark.parametrize("case", CODE_CASES, ids=["add", "matmul", "softmax", "rms_norm"])
def test_to_triton_code(
    device: str, case: tuple[Any, Any, list[dict[str, Any]]], static_shapes: bool
) -> None:
    body, make_args, configs = case
    kern = helion.kernel(autotune_effort="none", static_shapes=static_shapes)(body)
    bound = kern.bind(make_args(device))
    for config in configs:
        code = bound.to_triton_code(helion.Config(**config))
        assert "@triton.jit" in code
        assert "# src[line" in code
        assert f"def {body.__name__}(" in code
        compile(code, "<generated>", "exec")
    default = bound.to_triton_code()
    assert "@triton.jit" in default and "# src[line" in default


def test_indexing_modes_are_visible_in_code(device: str) -> None:
    kern = helion.kernel(autotune_effort="none")(K.add)
    bound = kern.bind((randn(64, 64, device=device), randn(64, 64, device=device)))
    block_ptr = bound.to_triton_code(helion.Config(block_sizes=[[16, 16]], indexing="block_ptr"))
    assert "make_block_ptr" in block_ptr
    descriptor = bound.to_triton_code(
        helion.Config(block_sizes=[[16, 16]], indexing="tensor_descriptor")
    )
    assert "tensor_descriptor" in descriptor
    pointer = bound.to_triton_code(helion.Config(block_sizes=[[16, 16]], indexing="pointer"))
    assert "make_block_ptr" not in pointer and "tensor_descriptor" not in pointer


def test_static_shapes_need_no_masks_for_exact_tiles(device: str) -> None:
    kern = helion.kernel(autotune_effort="none")(K.add)
    bound = kern.bind((randn(64, 64, device=device), randn(64, 64, device=device)))
    code = bound.to_triton_code(helion.Config(block_sizes=[[16, 16]]))
    assert "mask" not in code


# --- configs written for bigger inputs, seed spellings, example kernels -------------------

FLATTENED_CASES = [
    (
        K.add,
        lambda d: (randn(37, 19, device=d), randn(37, 19, device=d)),
        [256],
        lambda x, y: x + y,
    ),
    (K.add, lambda d: (randn(64, 64, device=d), randn(64, 64, device=d)), [64], lambda x, y: x + y),
    (
        K.add_2d_list,
        lambda d: (randn(37, 19, device=d), randn(37, 19, device=d)),
        [128],
        lambda x, y: x + y,
    ),
    (
        K.scale_shift,
        lambda d: (randn(37, 19, device=d), randn(37, device=d), randn(19, device=d)),
        [128],
        lambda x, r, c: x * r[:, None] + c[None, :],
    ),
]


@pytest.mark.parametrize("indexing", ["pointer", "block_ptr"])
@pytest.mark.parametrize(
    "case", FLATTENED_CASES, ids=["add-256", "add-64", "add_2d_list", "scale_shift"]
)
def test_flattened_block_sizes(device: str, case: tuple[Any, ...], indexing: str) -> None:
    """The seed's int form: an N-D tile flattened to one block of that many elements."""
    torch.manual_seed(40)
    body, make_args, blocks, reference = case
    args = make_args(device)
    result = compile_with(body, {"block_sizes": blocks, "indexing": indexing})(*args)
    check(result, reference(*args), **tolerances(torch.float32, device, dot=True))


def test_matmul_flattened_tile_runs_or_is_not_offered(device: str) -> None:
    """The config space offers flattening a matmul's tile only if such configs work."""
    torch.manual_seed(46)
    x, y = randn(127, 65, device=device), randn(65, 33, device=device)
    config = {"block_sizes": [256, [16]]}
    kern = compile_with(K.matmul, config)
    try:
        result = kern(x, y)
    except helion.exc.InvalidConfig:
        spec = kern.bind((x, y)).config_spec.describe()
        assert spec["block_sizes"][0]["flatten"] is None, (
            "config_spec offers flattening the matmul's tile, which normalize rejects: "
            f"{spec['block_sizes'][0]}"
        )
        return
    check(result, x @ y, **tolerances(torch.float32, device, dot=True))


BIG_BLOCK_CASES = [
    (K.add, (1, 50), {"block_sizes": [[16, 16]]}),
    (K.add, (50, 1), {"block_sizes": [[16, 16]]}),
    (K.add, (5, 3), {"block_sizes": [[64, 64]]}),
    (K.add_1d, (7,), {"block_sizes": [32]}),
    (K.add_1d, (1,), {"block_sizes": [128]}),
    (K.softmax, (1, 33), {"block_sizes": [16], "reduction_loops": [16]}),
    (K.softmax, (5, 7), {"block_sizes": [64], "reduction_loops": [32]}),
    (K.row_sum, (33, 1), {"block_sizes": [16], "reduction_loops": [16]}),
    (K.matmul, (1, 32, 1), {"block_sizes": [[64, 64], [32]]}),
    (K.matmul, (5, 7, 3), {"block_sizes": [[32, 32], [32]]}),
]


def _big_block_args(body: Any, shape: tuple[int, ...], device: str) -> tuple[torch.Tensor, ...]:
    if body is K.matmul:
        m, k, n = shape
        return randn(m, k, device=device), randn(k, n, device=device)
    if body in (K.add, K.add_1d):
        return randn(*shape, device=device), randn(*shape, device=device)
    return (randn(*shape, device=device),)


_BIG_BLOCK_REFERENCES: dict[Any, Callable[..., torch.Tensor]] = {
    K.add: lambda x, y: x + y,
    K.add_1d: lambda x, y: x + y,
    K.softmax: lambda x: torch.softmax(x, dim=1),
    K.row_sum: lambda x: x.sum(-1),
    K.matmul: lambda x, y: x @ y,
}


@pytest.mark.parametrize(
    "case",
    BIG_BLOCK_CASES,
    ids=[f"{body.__name__}-{_id(shape)}" for body, shape, _ in BIG_BLOCK_CASES],
)
def test_blocks_larger_than_the_tensor(device: str, case: tuple[Any, ...]) -> None:
    """A config hardcoded for big inputs also runs on small ones (the tail is masked)."""
    torch.manual_seed(41)
    body, shape, config = case
    args = _big_block_args(body, shape, device)
    result = compile_with(body, config)(*args)
    check(result, _BIG_BLOCK_REFERENCES[body](*args), **tolerances(torch.float32, device, dot=True))


def test_blocks_larger_than_the_tensor_dynamic_shapes(device: str) -> None:
    torch.manual_seed(42)
    kern = compile_with(K.add, {"block_sizes": [[32, 32]]}, static_shapes=False)
    for shape in [(64, 64), (1, 50), (50, 1), (1, 1), (5, 3)]:
        x, y = randn(*shape, device=device), randn(*shape, device=device)
        check(kern(x, y), x + y)


def test_matmul_seed_host_assert_with_fstring(device: str) -> None:
    torch.manual_seed(43)
    x, y = randn(127, 65, device=device), randn(65, 33, device=device)
    result = compile_with(K.matmul_seed_assert, {"block_sizes": [[16, 16], [16]]})(x, y)
    check(result, x @ y, **tolerances(torch.float32, device, dot=True))


def test_rms_norm_example_kernel(device: str) -> None:
    torch.manual_seed(44)
    x, weight = randn(33, 130, device=device), randn(130, device=device)
    result = compile_with(K.rms_norm_example, {"block_sizes": [16], "reduction_loops": [32]})(
        x, weight
    )
    check(result, K.rms_norm_ref(x, weight), atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("indexing", INDEXING)
def test_activations_tanh(device: str, indexing: str) -> None:
    torch.manual_seed(45)
    x = randn(37, 40, device=device)
    result = run(K.activations, (x,), {"block_sizes": [[16, 16]], "indexing": indexing})
    check(result, K.activations_ref(x), atol=1e-5, rtol=1e-5)


def scale_rows_grid(x: torch.Tensor, s: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty_like(x)
    for i in hl.grid(m):
        for tile_n in hl.tile(n):
            out[i, tile_n] = x[i, tile_n] * s[i]
    return out


def add_one_grid_2d(x: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for i, j in hl.grid(x.size()):
        out[i, j] = x[i, j] + 1
    return out


@pytest.mark.parametrize("indexing", ["pointer", "block_ptr"])
def test_hl_grid_gives_scalar_indices(device: str, indexing: str) -> None:
    torch.manual_seed(31)
    x = randn(5, 70, device=device)
    s = randn(5, device=device)
    scale = helion.kernel(config=helion.Config(block_sizes=[32], indexing=indexing))(
        scale_rows_grid
    )
    check(scale(x, s), x * s[:, None], atol=1e-6, rtol=1e-6)
    # hl.grid has no block sizes of its own: a kernel of only hl.grid loops has an empty list.
    add_one = helion.kernel(config=helion.Config(block_sizes=[]))(add_one_grid_2d)
    check(add_one(x[:3, :4]), x[:3, :4] + 1, atol=0, rtol=0)


def rows_of_flattened(x: torch.Tensor) -> torch.Tensor:
    n = x.size(-1)
    x2 = x.reshape(-1, n)
    out = torch.empty_like(x2)
    for tile_m, tile_n in hl.tile(x2.size()):
        out[tile_m, tile_n] = x2[tile_m, tile_n] * 2
    return out.view(x.size())


def add_transposed(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    yt = y.T
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile(x.size()):
        out[tile_m, tile_n] = x[tile_m, tile_n] + yt[tile_m, tile_n]
    return out


@pytest.mark.parametrize("static_shapes", [True, False])
def test_host_views_reshape_and_transpose(device: str, static_shapes: bool) -> None:
    torch.manual_seed(32)
    config = helion.Config(block_sizes=[[16, 16]])
    x = randn(3, 5, 24, device=device)
    rows = helion.kernel(config=config, static_shapes=static_shapes)(rows_of_flattened)
    check(rows(x), x * 2, atol=0, rtol=0)
    a = randn(20, 12, device=device)
    b = randn(12, 20, device=device)
    add_t = helion.kernel(config=config, static_shapes=static_shapes)(add_transposed)
    check(add_t(a, b), a + b.T, atol=0, rtol=0)
    # A non-contiguous input: its view's strides come from the tensor at run time.
    check(rows(x.transpose(0, 1)), x.transpose(0, 1) * 2, atol=0, rtol=0)


def _example(name: str) -> Any:
    import importlib.util
    from pathlib import Path

    path = Path(__file__).resolve().parents[2] / "examples" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(f"example_{name}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize(
    "config",
    [
        {"block_sizes": [[1, 16], [16]]},
        {"block_sizes": [[2, 32], [16]], "indexing": "block_ptr", "loop_orders": [[1, 0]]},
        {"block_sizes": [[1, 16], [32]], "indexing": "tensor_descriptor"},
    ],
    ids=_id,
)
@pytest.mark.parametrize("static_shapes", [True, False])
def test_attention_example(device: str, config: dict[str, Any], static_shapes: bool) -> None:
    torch.manual_seed(33)
    attention = helion.kernel(config=helion.Config(**config), static_shapes=static_shapes)(
        _example("attention").attention.fn
    )
    q, k, v = (randn(2, 3, 40, 16, device=device) for _ in range(3))
    expected = torch.nn.functional.scaled_dot_product_attention(q, k, v)
    check(attention(q, k, v), expected, **tolerances(torch.float32, device, dot=True))


def add_fixed_block(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0), block_size=32):
        out[tile] = x[tile] + y[tile]
    return out


def matmul_fixed_k_block(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m, tile_n in hl.tile([m, n], block_size=[None, 16]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(k, block_size=16):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        out[tile_m, tile_n] = acc
    return out


def test_block_size_fixed_in_the_source(device: str) -> None:
    torch.manual_seed(34)
    x, y = randn(100, device=device), randn(100, device=device)
    add = helion.kernel(autotune_effort="none")(add_fixed_block)
    check(add(x, y), x + y, atol=0, rtol=0)
    assert "_helion_add_fixed_block[(4,)]" in add.bind((x, y)).to_triton_code()
    a, b = randn(40, 50, device=device), randn(50, 24, device=device)
    mm = helion.kernel(config=helion.Config(block_sizes=[[32, 16]]))(matmul_fixed_k_block)
    check(mm(a, b), a @ b, **tolerances(torch.float32, device, dot=True))
    # The fixed dimension takes the source's value whatever the config says.
    assert mm.bind((a, b)).config["block_sizes"] == [[32, 16]]


def scale_last_dim(x: torch.Tensor, w: torch.Tensor) -> torch.Tensor:
    if x.ndim == 3:  # noqa: SIM108 (a host `if` is what this kernel tests)
        x2 = x.reshape(-1, x.size(-1))
    else:
        x2 = x
    out = torch.empty([*x2.shape[:-1], w.size(0)], dtype=x.dtype, device=x.device)
    rows = torch.empty(x2.shape[:1] + (1,), dtype=x.dtype, device=x.device)  # noqa: RUF005
    for tile_m in hl.tile(x2.size(0)):
        row = x2[tile_m, :]
        out[tile_m, :] = row * w[None, :]
        rows[tile_m, :] = row.sum(-1, keepdim=True)
    return out, rows


@pytest.mark.parametrize("shape", [(4, 6, 16), (24, 16)])
def test_host_shape_arithmetic_and_known_branches(device: str, shape: tuple[int, ...]) -> None:
    torch.manual_seed(35)
    x = randn(*shape, device=device)
    w = randn(16, device=device)
    kernel = helion.kernel(config=helion.Config(block_sizes=[8], reduction_loops=[None, None]))(
        scale_last_dim
    )
    out, rows = kernel(x, w)
    x2 = x.reshape(-1, 16)
    check(out, x2 * w, atol=1e-6, rtol=1e-6)
    check(rows, x2.sum(-1, keepdim=True), atol=1e-5, rtol=1e-5)


def embedding(x: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    x_flat = x.reshape(-1)
    _, embedding_dim = weight.size()
    out = torch.empty([x_flat.size(0), embedding_dim], dtype=weight.dtype, device=weight.device)
    for tile_b, tile_e in hl.tile([x_flat.size(0), embedding_dim]):
        out[tile_b, tile_e] = weight[x_flat[tile_b], tile_e]
    return out.view(*x.size(), embedding_dim)


@pytest.mark.parametrize("block_sizes", [[[8, 16]], [[16, 32]]], ids=_id)
def test_gather_with_an_index_tensor(device: str, block_sizes: list[Any]) -> None:
    torch.manual_seed(36)
    x = torch.randint(0, 50, (3, 7), device=device)
    weight = randn(50, 20, device=device)
    kernel = helion.kernel(config=helion.Config(block_sizes=block_sizes))(embedding)
    check(kernel(x, weight), torch.nn.functional.embedding(x, weight), atol=0, rtol=0)


def cross_entropy(logits: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
    n, v = logits.shape
    losses = torch.zeros([n], dtype=logits.dtype, device=logits.device)
    logits_flat = logits.view(-1)
    for tile_n in hl.tile(n):
        labels_tile = labels[tile_n]
        base_indices_tile = tile_n.index * v
        flat_indices = base_indices_tile + labels_tile
        logits_at_target = hl.load(logits_flat, [flat_indices])
        logits_rows = logits[tile_n, :]
        max_logits = torch.amax(logits_rows, dim=-1, keepdim=True)
        shifted = logits_rows - max_logits
        exp_shifted = torch.exp(shifted)
        sum_exp = torch.sum(exp_shifted, dim=-1, keepdim=True)
        log_sum_exp = max_logits.squeeze(-1) + torch.log(sum_exp.squeeze(-1))
        losses[tile_n] = log_sum_exp - logits_at_target
    return losses.mean()


@pytest.mark.parametrize("reduction_loops", [[None], [16]], ids=_id)
def test_cross_entropy_with_hl_load(device: str, reduction_loops: list[Any]) -> None:
    torch.manual_seed(37)
    logits = randn(12, 40, device=device)
    labels = torch.randint(0, 40, (12,), device=device)
    config = helion.Config(block_sizes=[4], reduction_loops=reduction_loops)
    kernel = helion.kernel(config=config)(cross_entropy)
    expected = torch.nn.functional.cross_entropy(logits, labels)
    check(kernel(logits, labels), expected, atol=1e-5, rtol=1e-5)


def layer_norm(x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor) -> torch.Tensor:
    m, n = x.size()
    out = torch.empty([m, n], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        acc = x[tile_m, :].to(torch.float32)
        var, mean = torch.var_mean(acc, dim=-1, keepdim=True, correction=0)
        normalized = (acc - mean) * torch.rsqrt(var + 1e-5)
        out[tile_m, :] = (normalized * weight[:].to(torch.float32) + bias[:].to(torch.float32)).to(
            x.dtype
        )
    return out


def row_std(x: torch.Tensor) -> torch.Tensor:
    m, _ = x.size()
    out = torch.empty([m], dtype=x.dtype, device=x.device)
    for tile_m in hl.tile(m):
        out[tile_m] = torch.std(x[tile_m, :], dim=-1)
    return out


@pytest.mark.parametrize("reduction_loops", [[None], [16]], ids=_id)
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=str)
def test_layer_norm_with_var_mean(
    device: str, reduction_loops: list[Any], dtype: torch.dtype
) -> None:
    torch.manual_seed(38)
    x = randn(20, 48, device=device, dtype=dtype)
    weight, bias = randn(48, device=device, dtype=dtype), randn(48, device=device, dtype=dtype)
    config = helion.Config(block_sizes=[4], reduction_loops=reduction_loops)
    expected = torch.nn.functional.layer_norm(x.float(), [48], weight.float(), bias.float(), 1e-5)
    check(
        helion.kernel(config=config)(layer_norm)(x, weight, bias),
        expected.to(dtype),
        **tolerances(dtype, device),
    )
    xf = x.float()
    check(helion.kernel(config=config)(row_std)(xf), xf.std(-1), atol=1e-5, rtol=1e-5)


def matmul_split_k(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    out = torch.zeros([m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n, tile_k in hl.tile([m, n, k]):
        partial = torch.mm(x[tile_m, tile_k], y[tile_k, tile_n])
        hl.atomic_add(out, [tile_m, tile_n], partial)
    return out


@pytest.mark.parametrize("indexing", ["pointer", "block_ptr"])
def test_atomic_add_split_k(device: str, indexing: str) -> None:
    torch.manual_seed(39)
    x, y = randn(40, 70, device=device), randn(70, 24, device=device)
    config = helion.Config(block_sizes=[[16, 16, 16]], indexing=indexing)
    kernel = helion.kernel(config=config)(matmul_split_k)
    check(kernel(x, y), x @ y, **tolerances(torch.float32, device, dot=True))
    assert "tl.atomic_add(" in kernel.bind((x, y)).to_triton_code()


def sum_three_then_scale(a: torch.Tensor, b: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    out = torch.empty_like(a)
    for tile in hl.tile(a.size(0)):
        acc = hl.zeros([tile], dtype=torch.float32)
        for t in (a, b, c):
            acc = acc + t[tile]
        for i in hl.static_range(1, 3):
            acc = acc * i
        out[tile] = acc
    return out


def test_unrolled_loops_over_tuples_and_static_range(device: str) -> None:
    torch.manual_seed(40)
    a, b, c = (randn(50, device=device) for _ in range(3))
    kernel = helion.kernel(config=helion.Config(block_sizes=[16]))(sum_three_then_scale)
    check(kernel(a, b, c), (a + b + c) * 2, atol=1e-6, rtol=1e-6)


def double_prefix(x: torch.Tensor, limit: int) -> torch.Tensor:
    out = torch.zeros_like(x)
    for tile in hl.tile(x.size(0)):
        keep = tile.index < limit
        values = hl.load(x, [tile], extra_mask=keep)
        hl.store(out, [tile], values * 2, extra_mask=keep)
    return out


@pytest.mark.parametrize("indexing", ["pointer", "block_ptr"])
def test_hl_load_and_store_with_extra_mask(device: str, indexing: str) -> None:
    torch.manual_seed(44)
    x = randn(50, device=device)
    kernel = helion.kernel(config=helion.Config(block_sizes=[16], indexing=indexing))(double_prefix)
    expected = torch.zeros_like(x)
    expected[:13] = x[:13] * 2
    check(kernel(x, 13), expected, atol=0, rtol=0)


def row_argmax_and_max(x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    m, _ = x.size()
    positions = torch.empty([m], dtype=torch.int64, device=x.device)
    values = torch.empty([m], dtype=x.dtype, device=x.device)
    smallest = torch.empty([m], dtype=torch.int64, device=x.device)
    for tile_m in hl.tile(m):
        row = x[tile_m, :]
        best, where = torch.max(row, dim=1)
        values[tile_m] = best
        positions[tile_m] = where
        smallest[tile_m] = torch.argmin(row, dim=-1)
    return positions, values, smallest


def test_argmax_argmin_and_max_with_dim(device: str) -> None:
    torch.manual_seed(45)
    x = randn(20, 37, device=device)
    kernel = helion.kernel(config=helion.Config(block_sizes=[8], reduction_loops=[None]))(
        row_argmax_and_max
    )
    positions, values, smallest = kernel(x)
    check(positions, x.argmax(-1), atol=0, rtol=0)
    check(values, x.amax(-1), atol=0, rtol=0)
    check(smallest, x.argmin(-1), atol=0, rtol=0)
    looped = helion.kernel(config=helion.Config(block_sizes=[8], reduction_loops=[16]))(
        row_argmax_and_max
    )
    # The config space knows argmax needs the whole row.
    with pytest.raises(helion.exc.InvalidConfig, match="needs whole"):
        looped(x)
