"""hl.register_tunable: a user entry of the config, chosen like the built-in
ones. Its value is the config's, in host code (sizing loops and allocations)
and in the kernel (a constant that picks a code path or scales a value)."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from typing import Any

import pytest
import torch

import helion
import helion.language as hl
from helion import autotuner, exc
from helion.autotuner import (
    BooleanFragment,
    EnumFragment,
    IntegerFragment,
    ListOf,
    PowerOfTwoFragment,
)

DEVICE = "cuda" if torch.cuda.is_available() else "cpu"
ODD = PowerOfTwoFragment(1, 8, 2)


def run(kernel: helion.Kernel, args: tuple[Any, ...], **config: Any) -> Any:
    return kernel.bind(args).compile_config(helion.Config(**config))(*args)


@helion.kernel(autotune_effort="none")
def split_k_matmul(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    m, k = x.size()
    _, n = y.size()
    split_k = hl.register_tunable("split_k", PowerOfTwoFragment(1, 8, 2))
    k_chunk = k // split_k
    partial = torch.zeros([split_k, m, n], dtype=torch.float32, device=x.device)
    for tile_m, tile_n, part in hl.tile([m, n, split_k], block_size=[None, None, 1]):
        acc = hl.zeros([tile_m, tile_n], dtype=torch.float32)
        for tile_k in hl.tile(part.begin * k_chunk, part.begin * k_chunk + k_chunk):
            acc = torch.addmm(acc, x[tile_m, tile_k], y[tile_k, tile_n])
        partial[part.begin, tile_m, tile_n] = acc
    return partial.sum(0)


@pytest.mark.parametrize("split_k", [1, 2, 4, 8])
def test_a_host_value_sizes_the_loops(split_k: int) -> None:
    x = torch.randn(33, 64, device=DEVICE)
    y = torch.randn(64, 17, device=DEVICE)
    bound = split_k_matmul.bind((x, y))
    config = helion.Config(block_sizes=[[16, 16, 1], [16]], split_k=split_k)
    code = bound.to_triton_code(config)
    assert f"split_k = {split_k}\n" in code, code
    out = bound.compile_config(config)(x, y)
    torch.testing.assert_close(out, x @ y, rtol=1e-2, atol=1e-2)


def test_the_default_comes_from_the_fragment() -> None:
    x = torch.randn(33, 64, device=DEVICE)
    y = torch.randn(64, 17, device=DEVICE)
    spec = split_k_matmul.bind((x, y)).config_spec
    assert spec.default_config()["split_k"] == 2
    torch.testing.assert_close(split_k_matmul(x, y), x @ y, rtol=1e-2, atol=1e-2)


@helion.kernel(autotune_effort="none")
def paths(x: torch.Tensor) -> torch.Tensor:
    squash = hl.register_tunable("squash", BooleanFragment())
    scale = hl.register_tunable("scale", EnumFragment((1, 3, 5)))
    shift = hl.register_tunable("shift", EnumFragment((0.5, -2.25, 4)))
    repeat = hl.register_tunable("repeat", IntegerFragment(0, 3, 1))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        v = x[tile] * scale
        if squash:
            v = torch.sigmoid(v)
        for _ in range(repeat):
            v = v + 1
        out[tile] = v + shift
    return out


def reference(x: torch.Tensor, squash: bool, scale: int, shift: float, repeat: int) -> torch.Tensor:
    v = x * scale
    if squash:
        v = torch.sigmoid(v)
    return v + repeat + shift


@pytest.mark.parametrize("squash", [False, True])
@pytest.mark.parametrize("scale", [1, 3, 5])
@pytest.mark.parametrize("shift", [0.5, -2.25, 4])
@pytest.mark.parametrize("repeat", [0, 1, 2, 3])
def test_every_value_of_every_fragment(squash: bool, scale: int, shift: float, repeat: int) -> None:
    x = torch.randn(37, device=DEVICE)
    config = {"squash": squash, "scale": scale, "shift": shift, "repeat": repeat}
    out = run(paths, (x,), block_sizes=[16], **config)
    torch.testing.assert_close(out, reference(x, **config))


def test_ints_and_bools_are_constants_in_the_kernel() -> None:
    x = torch.randn(37, device=DEVICE)
    code = paths.bind((x,)).to_triton_code(helion.Config(scale=5, squash=True, shift=4))
    kernel = code[code.index("@triton.jit") : code.index("\ndef paths")]
    signature = kernel[: kernel.index(":\n")]
    # Only the float reaches the kernel as an argument (always as a float).
    assert "shift" in signature and "scale" not in signature and "squash" not in signature
    assert "tl.cast(5, tl.float32)" in kernel, kernel
    assert "shift = 4.0\n" in code


def test_the_spec_describes_each_tunable_after_the_built_in_keys() -> None:
    x = torch.randn(37, device=DEVICE)
    spec = paths.bind((x,)).config_spec
    described = {entry["name"]: entry for entry in spec.describe()["tunables"]}
    assert list(described) == ["squash", "scale", "shift", "repeat"]
    assert described["scale"]["fragment"] == "EnumFragment((1, 3, 5), None)"
    assert described["repeat"]["class"] == "IntegerFragment"
    assert (described["repeat"]["low"], described["repeat"]["high"]) == (0, 3)
    assert described["squash"]["default"] is False
    default = spec.default_config()
    assert list(default)[-4:] == ["squash", "scale", "shift", "repeat"]
    assert (default["squash"], default["scale"], default["shift"], default["repeat"]) == (
        False,
        1,
        0.5,
        1,
    )
    normalized = spec.normalize(helion.Config(repeat=3, block_sizes=[32], shift=4.0))
    assert list(normalized)[-4:] == ["squash", "scale", "shift", "repeat"]
    assert normalized["repeat"] == 3 and normalized["shift"] == 4
    assert repr(normalized).endswith("squash=False, scale=1, shift=4, repeat=3)")


@pytest.mark.parametrize(
    ("config", "words"),
    [
        ({"scale": 2}, ("scale: 2", "EnumFragment((1, 3, 5), None)", "use one of 1, 3, 5")),
        ({"repeat": 4}, ("repeat: 4", "an int between 0 and 3")),
        ({"squash": 1}, ("squash: 1", "true or false")),
        ({"shift": "big"}, ('shift: "big"', "use one of 0.5, -2.25, 4")),
        ({"scal": 1}, ('unknown config key "scal"', "squash, scale, shift, repeat")),
    ],
    ids=["enum", "integer", "boolean", "float-enum", "unknown-key"],
)
def test_invalid_values(config: dict[str, Any], words: tuple[str, ...]) -> None:
    x = torch.randn(37, device=DEVICE)
    with pytest.raises(exc.InvalidConfig) as error:
        paths.bind((x,)).to_triton_code(helion.Config(**config))
    for word in words:
        assert word in str(error.value), str(error.value)


def test_the_search_draws_other_values() -> None:
    # These tunables change the result on purpose, so the check against the
    # default config's output is off.
    kernel = helion.kernel(
        autotune_effort="quick", autotune_random_seed=11, autotune_accuracy_check=False
    )(paths.fn)
    x = torch.randn(37, device=DEVICE)
    search = autotuner.RandomSearch(kernel.bind((x,)), (x,), count=12)
    best = search.autotune()
    assert search.result is not None
    drawn = [config for config, _ms, _error in search.result["history"]]
    for name, default in (("squash", False), ("scale", 1), ("shift", 0.5), ("repeat", 1)):
        assert any(config[name] != default for config in drawn), (name, drawn)
    chosen = {name: best[name] for name in ("squash", "scale", "shift", "repeat")}
    torch.testing.assert_close(kernel.bind((x,)).compile_config(best)(x), reference(x, **chosen))


@helion.kernel(autotune_effort="none")
def registered_twice(x: torch.Tensor) -> torch.Tensor:
    a = hl.register_tunable("factor", ODD)
    b = hl.register_tunable("factor", PowerOfTwoFragment(1, 8, 2))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * a + b
    return out


def test_one_entry_per_name_and_fragments_from_globals() -> None:
    x = torch.randn(20, device=DEVICE)
    spec = registered_twice.bind((x,)).config_spec
    assert [entry["name"] for entry in spec.describe()["tunables"]] == ["factor"]
    torch.testing.assert_close(run(registered_twice, (x,), factor=8), x * 8 + 8)


@helion.kernel(autotune_effort="none")
def launch_option(x: torch.Tensor) -> torch.Tensor:
    hl.register_tunable("_triton_config_num_ctas", EnumFragment((1,)))
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] + 1
    return out


def test_triton_config_keys_reach_the_launch() -> None:
    x = torch.randn(20, device=DEVICE)
    code = launch_option.bind((x,)).to_triton_code(helion.Config(block_sizes=[32]))
    assert "num_ctas=1)" in code, code
    torch.testing.assert_close(run(launch_option, (x,), block_sizes=[32]), x + 1)


# --- errors ----------------------------------------------------------------------------


_ERROR_KERNEL = """\
import torch
import helion.language as hl
from helion.autotuner import BooleanFragment, EnumFragment, IntegerFragment, ListOf
from helion.autotuner import PowerOfTwoFragment


def bad(x: torch.Tensor) -> torch.Tensor:
    {body}
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile]
    return out
"""


def _kernel(tmp_path: Path, body: str, **settings: Any) -> helion.Kernel:
    """A kernel whose first statement is ``body``, defined in a file of its own."""
    path = tmp_path / "tunable_errors.py"
    path.write_text(_ERROR_KERNEL.format(body=body))
    spec = importlib.util.spec_from_file_location("tunable_errors", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return helion.kernel(autotune_effort="none", **settings)(module.bad)


@pytest.mark.parametrize(
    ("body", "cls", "words"),
    [
        ('v = hl.register_tunable(3, BooleanFragment())', exc.RegisterTunableArgTypes, ("a name",)),
        ('v = hl.register_tunable("v", 4)', exc.RegisterTunableArgTypes, ("an int", "fragment")),
        (
            'v = hl.register_tunable("my key", BooleanFragment())',
            exc.RegisterTunableArgTypes,
            ("Python identifier",),
        ),
        (
            'v = hl.register_tunable("v", PowerOfTwoFragment(3, 8))',
            exc.RegisterTunableArgTypes,
            ("powers of two",),
        ),
        (
            'v = hl.register_tunable("num_warps", PowerOfTwoFragment(1, 8))',
            exc.TunableNameConflict,
            ("'num_warps'", "another name"),
        ),
        (
            'v = hl.register_tunable("block_size", PowerOfTwoFragment(1, 8))',
            exc.TunableNameConflict,
            ("'block_sizes'",),
        ),
        (
            'v = hl.register_tunable("v", BooleanFragment()); '
            'w = hl.register_tunable("v", PowerOfTwoFragment(1, 8))',
            exc.TunableNameConflict,
            ("registered before with BooleanFragment()",),
        ),
        (
            'v = hl.register_tunable("v", ListOf(BooleanFragment(), 2))',
            exc.TunableTypeNotSupported,
            ("int, a float or a bool",),
        ),
        (
            'v = hl.register_tunable("v", EnumFragment(("a", "b")))',
            exc.TunableTypeNotSupported,
            ("EnumFragment",),
        ),
        (
            'v = hl.register_tunable("v", IntegerFragment(1, x.size(0)))',
            exc.ConfigSpecFragmentWithSymInt,
            ("x.size(0)", "hl.specialize"),
        ),
    ],
    ids=[
        "name-not-a-string",
        "not-a-fragment",
        "name-not-an-identifier",
        "bad-fragment-arguments",
        "built-in-key",
        "singular-of-a-built-in-key",
        "registered-twice-differently",
        "list-of",
        "string-enum",
        "symbolic-bound",
    ],
)
def test_errors(tmp_path: Path, body: str, cls: type, words: tuple[str, ...]) -> None:
    kernel = _kernel(tmp_path, body, static_shapes=False)
    with pytest.raises(cls) as error:
        kernel(torch.randn(40, device=DEVICE))
    message = str(error.value)
    assert "kernel 'bad'" in message, message
    assert "hl.register_tunable(" in message or "Fragment(" in message, message
    assert "^" in message, message
    for word in words:
        assert word in message, message


def test_register_tunable_on_the_device_is_refused() -> None:
    @helion.kernel(autotune_effort="none")
    def on_device(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile] * hl.register_tunable("f", BooleanFragment())
        return out

    with pytest.raises(exc.UnsupportedOp, match="belongs in host code"):
        on_device(torch.randn(8, device=DEVICE))


def test_fragments_check_their_arguments_in_the_compiler() -> None:
    assert PowerOfTwoFragment(4, 64, 128).default() == 64
    assert IntegerFragment(2, 9, 0).default() == 2
    assert EnumFragment((2.5, 1)).is_valid(1.0)
    assert not BooleanFragment().is_valid(1)
    with pytest.raises(ValueError, match="low=9 is above high=2"):
        IntegerFragment(9, 2)
    with pytest.raises(ValueError, match="non-empty"):
        EnumFragment(())
    with pytest.raises(ValueError, match="default_val=3 is not a power of two"):
        PowerOfTwoFragment(1, 8, 3)


@pytest.mark.gpu
def test_gpu_split_k_and_paths() -> None:
    x = torch.randn(300, 512, device="cuda", dtype=torch.float16)
    y = torch.randn(512, 200, device="cuda", dtype=torch.float16)
    for split_k in (1, 4, 8):
        out = run(split_k_matmul, (x, y), block_sizes=[[64, 64, 1], [32]], split_k=split_k)
        torch.testing.assert_close(out, (x @ y).float(), rtol=1e-2, atol=1e-1)
    v = torch.randn(10000, device="cuda")
    for squash in (False, True):
        out = run(paths, (v,), squash=squash, scale=3, shift=-2.25, repeat=2)
        torch.testing.assert_close(out, reference(v, squash, 3, -2.25, 2))


def test_configs_print_user_keys_after_built_in_ones() -> None:
    config = helion.Config(split_k=4, num_sm_multiplier=2, block_size=[16], pid_type="flat")
    assert list(config) == ["pid_type", "num_sm_multiplier", "block_size", "split_k"]
