"""The per-loop, per-load and per-atomic config fields: range_* (tl.range
options), static_ranges, load_eviction_policies, atomic_indexing and maxnreg.
Each changes the generated code, keeps results right at odd sizes, is
checked with errors that name the field, and is searched by the autotuner."""

from __future__ import annotations

import inspect
import json
import re
from typing import Any

import pytest
import torch
import triton.language as tl

import helion
import helion.language as hl
from helion import exc
from helion._testing import code_and_output
from helion.runtime.launcher import fast_launches
from helion._loader import load_module


@helion.kernel(autotune_effort="none")
def loops(x: torch.Tensor, w: torch.Tensor, k: int) -> torch.Tensor:
    """Range entries: the top-level loop, the two dims of the inner tile (the
    second of 5 columns, so static), hl.grid(3) (static) and range(k)."""
    m, n, p = x.size()
    out = torch.empty([m], dtype=torch.float32, device=x.device)
    for tile_m in hl.tile(m):
        acc = hl.zeros([tile_m], dtype=torch.float32)
        for tile_n, tile_p in hl.tile([n, p]):
            acc = acc + (x[tile_m, tile_n, tile_p] * w[tile_p][None, None, :]).sum(-1).sum(-1)
        for i in hl.grid(3):
            acc = acc + i
        for _ in range(k):
            acc = acc * 0.5
        out[tile_m] = acc
    return out


def loops_reference(x: torch.Tensor, w: torch.Tensor, k: int) -> torch.Tensor:
    return ((x * w).sum((1, 2)) + 3) * 0.5**k


@helion.kernel(autotune_effort="none")
def scaled_rows(x: torch.Tensor, scale: torch.Tensor) -> torch.Tensor:
    """Three loads: x and scale[tile_m] take load_eviction_policies entries;
    the explicit hl.load does not."""
    m, n = x.size()
    out = torch.empty_like(x)
    for tile_m, tile_n in hl.tile([m, n]):
        bias = hl.load(scale, [tile_m], eviction_policy="evict_last")
        out[tile_m, tile_n] = x[tile_m, tile_n] * scale[tile_m][:, None] + bias[:, None]
    return out


@helion.kernel(autotune_effort="none")
def accumulate(x: torch.Tensor, total: torch.Tensor, peak: torch.Tensor) -> torch.Tensor:
    """Two atomics over whole 2-D tiles: each takes an atomic_indexing entry."""
    m, n = x.size()
    for tile_m, tile_n in hl.tile([m, n]):
        v = x[tile_m, tile_n]
        hl.atomic_add(total, [tile_m, tile_n], v)
        hl.atomic_max(peak, [tile_m, tile_n], v)
    return total


def loop_inputs(device: str, m: int = 37, n: int = 19) -> tuple[torch.Tensor, torch.Tensor, int]:
    return torch.randn(m, n, 5, device=device), torch.randn(5, device=device), 2


LOOP_CONFIGS: list[dict[str, Any]] = [
    {"block_sizes": [8, 4, 2]},
    {
        "block_sizes": [8, 4, 2],
        "range_unroll_factors": [0, 2, 3, 4, 1],
        "range_num_stages": [0, 3, 1, 2, 4],
        "range_multi_buffers": [None, True, False, None, True],
        "range_flattens": [None, False, None, True, False],
    },
    {"block_sizes": [16, 8, 4], "static_ranges": [True, True]},
    {"block_sizes": [16, 8, 4], "static_ranges": [False, True], "range_unroll_factors": [0, 2, 2, 2]},
    {"block_sizes": [4, 32, 1], "range_warp_specializes": [None, None, True, True]},
]


@pytest.mark.parametrize("config", LOOP_CONFIGS)
def test_range_options_keep_results(device: str, config: dict[str, Any]) -> None:
    args = loop_inputs(device)
    code, out = code_and_output(loops, args, **config)
    torch.testing.assert_close(out, loops_reference(*args), rtol=1e-4, atol=1e-4)
    assert re.search(r"for \w+ in tl\.(static_)?range\(", code)


def test_range_options_reach_their_loops(device: str) -> None:
    args = loop_inputs(device)
    default_code, _ = code_and_output(loops, args, block_sizes=[8, 4, 2])
    ranges = re.findall(r"in tl\.range\(([^)]*)\):", default_code)
    assert len(ranges) == 4
    assert all("=" not in arguments for arguments in ranges), ranges
    assert "tl.static_range" not in default_code
    code, _ = code_and_output(loops, args, **LOOP_CONFIGS[1])
    assert "tl.range(0, 19, _BLOCK_SIZE_1, loop_unroll_factor=2, num_stages=3, " \
        "disallow_acc_multi_buffer=False, flatten=False)" in code
    assert "tl.range(0, 5, _BLOCK_SIZE_2, loop_unroll_factor=3, num_stages=1, " \
        "disallow_acc_multi_buffer=True)" in code
    assert "tl.range(0, 3, _BLOCK_SIZE_3, loop_unroll_factor=4, num_stages=2, flatten=True)" in code
    assert "tl.range(0, k, 1, loop_unroll_factor=1, num_stages=4, " \
        "disallow_acc_multi_buffer=False, flatten=False)" in code
    static_code, _ = code_and_output(loops, args, **LOOP_CONFIGS[3])
    assert "tl.range(0, 5, _BLOCK_SIZE_2, loop_unroll_factor=2)" in static_code
    assert "tl.static_range(0, 3, _BLOCK_SIZE_3)" in static_code
    # Only the first warp-specialized loop stays so, without unrolling.
    special, _ = code_and_output(loops, args, **LOOP_CONFIGS[4])
    assert special.count("warp_specialize=True") == 1
    assert "tl.range(0, 5, _BLOCK_SIZE_2, warp_specialize=True)" in special


def test_triton_range_takes_every_registered_option() -> None:
    # Options absent from the installed Triton's tl.range would not be registered.
    spec = loops.bind(loop_inputs("cpu")).config_spec.describe()
    parameters = inspect.signature(tl.range.__init__).parameters
    for key, keyword in spec["range_keywords"].items():
        assert keyword in parameters, (key, keyword)
    assert set(spec["range_keywords"]) == {
        "range_unroll_factors",
        "range_warp_specializes",
        "range_num_stages",
        "range_multi_buffers",
        "range_flattens",
    }
    assert [loop["top_level"] for loop in spec["range_loops"]] == [True, False, False, False, False]
    assert [loop["static_range"] for loop in spec["range_loops"]] == [
        False,
        False,
        True,
        True,
        False,
    ]


@pytest.mark.parametrize(
    "policies", [["", ""], ["first", "last"], ["last", ""], ["first", "first"]]
)
@pytest.mark.parametrize("indexing", ["pointer", "block_ptr", "tensor_descriptor"])
def test_eviction_policies_keep_results(device: str, policies: list[str], indexing: str) -> None:
    x = torch.randn(33, 70, device=device)
    scale = torch.randn(33, device=device)
    code, out = code_and_output(
        scaled_rows,
        (x, scale),
        block_sizes=[16, 32],
        indexing=indexing,
        load_eviction_policies=policies,
    )
    torch.testing.assert_close(out, x * scale[:, None] + scale[:, None])
    assert "eviction_policy='evict_last'" in code  # the source's own
    for policy in ("first", "last"):
        if policy in policies and indexing == "pointer":
            assert f"eviction_policy='evict_{policy}'" in code


def test_eviction_policy_of_the_source_takes_no_entry(device: str) -> None:
    spec = scaled_rows.bind((torch.randn(4, 4), torch.randn(4))).config_spec.describe()
    assert spec["policy_loads"] == 2
    args = (torch.randn(9, 8, device=device), torch.randn(9, device=device))
    code, _ = code_and_output(scaled_rows, args, block_sizes=[16, 8])
    assert code.count("eviction_policy='") == 1


def test_bad_eviction_policy_names_kernel_and_line() -> None:
    @helion.kernel(autotune_effort="none")
    def evicting(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = hl.load(x, [tile], eviction_policy="evict_soon")
        return out

    with pytest.raises(exc.InvalidAPIUsage) as error:
        evicting(torch.randn(8))
    message = str(error.value)
    assert "evicting" in message
    assert 'hl.load(x, [tile], eviction_policy="evict_soon")' in message
    assert '"evict_first", "evict_last"' in message


@pytest.mark.parametrize("style", ["pointer", "tensor_descriptor", ["tensor_descriptor", "pointer"]])
def test_atomic_indexing_keeps_results(device: str, style: Any) -> None:
    x = torch.randn(40, 96, device=device)
    total = torch.ones(40, 96, device=device)
    peak = torch.zeros(40, 96, device=device)
    code, out = code_and_output(
        accumulate, (x, total, peak), block_sizes=[8, 32], atomic_indexing=style
    )
    torch.testing.assert_close(out, x + 1)
    torch.testing.assert_close(peak, x.clamp(min=0))
    # Triton's interpreter has no descriptor atomics: the pointer form runs there.
    if device == "cpu":
        assert "tl.atomic_add(" in code


def test_atomics_have_their_own_entries() -> None:
    spec = accumulate.bind(
        (torch.randn(8, 8), torch.zeros(8, 8), torch.zeros(8, 8))
    ).config_spec.describe()
    assert spec["atomic_ops"] == 2
    assert spec["memory_ops"] == 1  # the load of x; atomics take no indexing entry
    assert spec["atomic_indexing"] == ["pointer", "tensor_descriptor"]


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"range_unroll_factors": [0, 9]}, "range_unroll_factors[1]: 9 is not allowed"),
        ({"range_num_stages": [0, 0, 0, 0, 0, 0]}, "range_num_stages: too many values"),
        ({"range_flattens": [None, "yes"]}, "range_flattens[1]: expected true, false or null"),
        ({"range_warp_specializes": 1}, "range_warp_specializes: expected a list"),
        ({"static_ranges": [True, True, True]}, "static_ranges: too many values"),
        ({"static_ranges": [1]}, "static_ranges[0]: expected true or false"),
        ({"maxnreg": 96}, "maxnreg: 96 is not allowed; use None"),
        ({"maxnreg": 128}, "maxnreg: 128 needs a persistent pid_type"),
        ({"load_eviction_policies": ["evict_first"]}, "is not an eviction policy"),
        ({"atomic_indexing": "block_ptr"}, "block pointers have no atomic operations"),
    ],
)
def test_invalid_values_name_the_field(config: dict[str, Any], message: str) -> None:
    bound = loops.bind(loop_inputs("cpu"))
    with pytest.raises(exc.InvalidConfig) as error:
        bound.config_spec.normalize(helion.Config(**config))
    assert message in str(error.value)


def test_short_lists_are_padded_and_print_in_order() -> None:
    bound = loops.bind(loop_inputs("cpu"))
    config = bound.config_spec.normalize(
        helion.Config(block_sizes=[8, 4, 2], range_unroll_factors=[0, 2], static_ranges=[])
    )
    assert config["range_unroll_factors"] == [0, 2, 0, 0, 0]
    assert "static_ranges" not in config
    keys = list(config)
    assert keys.index("range_unroll_factors") < keys.index("num_warps")


def test_maxnreg_launch_keyword_runs_where_kernels_run(device: str) -> None:
    # maxnreg is a launch option (a compile option of Triton's CUDA backend);
    # Triton's interpreter and the fast launcher take it beside num_warps.
    x = torch.randn(100, device=device)

    @helion.kernel(config=helion.Config(block_sizes=[32]))
    def doubled(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile] * 2
        return out

    code, _ = code_and_output(doubled, (x,))
    launch = re.search(r"num_warps=\d+, num_stages=\d+\)", code)
    assert launch is not None
    with_registers = code.replace(launch.group(0), launch.group(0)[:-1] + ", maxnreg=128)")
    host = load_module(with_registers).doubled
    if device == "cuda":
        host = fast_launches(host)
    torch.testing.assert_close(host(x), x * 2)


def test_search_offers_the_loop_fields() -> None:
    # A search whose timings favour unrolled, pipelined loops: the configs it
    # measures try the loop fields, and every one of them is valid.
    bound = loops.bind(loop_inputs("cpu"))
    measured: list[dict[str, Any]] = []

    def evaluate(configs_json: str, phase: str) -> str:
        configs = json.loads(configs_json)
        measured.extend(configs)
        times = []
        for config in configs:
            bound.config_spec.normalize(config)
            bonus = sum(config.get("range_unroll_factors", [])) + sum(
                config.get("range_num_stages", [])
            )
            times.append({"time_ms": 10.0 / (1 + bonus), "error": None, "skipped": False})
        return json.dumps(times)

    options = {"strategy": "random", "effort": "quick", "count": 60, "seed": 3}
    result = json.loads(bound._core.autotune(json.dumps(options), evaluate, lambda line: None))
    keys = set().union(*(config.keys() for config in measured))
    assert {
        "range_unroll_factors",
        "range_num_stages",
        "range_multi_buffers",
        "range_flattens",
        "static_ranges",
    } <= keys
    assert "range_warp_specializes" not in keys  # searched only from Blackwell on
    # maxnreg and the top-level loop's entry matter only for persistent pid types.
    assert "maxnreg" in keys
    persistent = ("persistent_blocked", "persistent_interleaved")
    for config in measured:
        if config.get("pid_type") not in persistent:
            assert "maxnreg" not in config, config
            for key in ("range_unroll_factors", "range_num_stages"):
                assert config.get(key, [0])[0] == 0, config
    assert sum(result["best"].get("range_unroll_factors", [0])) > 0


# --- on a GPU --------------------------------------------------------------------------


@pytest.mark.gpu
@pytest.mark.parametrize("config", LOOP_CONFIGS[:4])
def test_range_options_compile_on_the_gpu(config: dict[str, Any]) -> None:
    args = loop_inputs("cuda", 300, 130)
    _, out = code_and_output(loops, args, **config)
    torch.testing.assert_close(out, loops_reference(*args), rtol=1e-4, atol=1e-4)


@pytest.mark.gpu
@pytest.mark.parametrize("policies", [["first", "last"], ["last", "first"]])
def test_eviction_policies_compile_on_the_gpu(policies: list[str]) -> None:
    x = torch.randn(1000, 333, device="cuda")
    scale = torch.randn(1000, device="cuda")
    for indexing in ("pointer", "block_ptr"):
        _, out = code_and_output(
            scaled_rows,
            (x, scale),
            block_sizes=[32, 64],
            indexing=indexing,
            load_eviction_policies=policies,
        )
        torch.testing.assert_close(out, x * scale[:, None] + scale[:, None])


@pytest.mark.gpu
def test_descriptor_atomics_on_the_gpu() -> None:
    if torch.cuda.get_device_capability() < (9, 0):
        pytest.skip("tensor descriptors need Hopper or newer")
    x = torch.randn(256, 512, device="cuda")
    total = torch.ones(256, 512, device="cuda")
    peak = torch.zeros(256, 512, device="cuda", dtype=torch.float32)
    code, out = code_and_output(
        accumulate, (x, total, peak), block_sizes=[32, 64], atomic_indexing="tensor_descriptor"
    )
    assert "total_atomic_desc_0.atomic_add(" in code  # float32 max has no descriptor form
    assert "tl.atomic_max(" in code
    torch.testing.assert_close(out, x + 1)
    torch.testing.assert_close(peak, x.clamp(min=0))


@pytest.mark.gpu
def test_warp_specialize_given_compiles_where_triton_can() -> None:
    if torch.cuda.get_device_capability() < (10, 0):
        pytest.skip("warp specialization needs Blackwell")
    args = loop_inputs("cuda", 300, 130)
    _, out = code_and_output(loops, args, **LOOP_CONFIGS[4])
    torch.testing.assert_close(out, loops_reference(*args), rtol=1e-4, atol=1e-4)


@pytest.mark.gpu
def test_maxnreg_launch_on_the_gpu() -> None:
    test_maxnreg_launch_keyword_runs_where_kernels_run("cuda")


@pytest.mark.gpu
def test_autotune_searches_the_loop_fields_on_the_gpu() -> None:
    args = loop_inputs("cuda", 200, 64)
    tuned = helion.kernel(
        autotune_effort="quick", autotune_max_generations=1, autotune_random_seed=7
    )(loops.fn)
    torch.testing.assert_close(tuned(*args), loops_reference(*args), rtol=1e-4, atol=1e-4)
