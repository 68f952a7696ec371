"""The Python layer: configs, settings, the decorator, errors and the runtime glue."""

from __future__ import annotations

import json
import os
import pickle

import kernels as K  # noqa: N812
import pytest
import torch

import helion
import helion.language as hl
from helion import _core, exc
from helion._loader import load_module
from helion.runtime.request import SourceInfo, build_request, describe_globals, make_key_function

EPS = 1e-5
SCALE = 3
NAME = "x"


# --- kernels used below (module level: the compiler reads their source) ---


add = helion.kernel(config=helion.Config(block_sizes=[32]))(K.add)


@helion.kernel(autotune_effort="none")
def scale_add(x: torch.Tensor, alpha: float, n: hl.constexpr, beta: float = 2.0) -> torch.Tensor:
    out = torch.empty_like(x)
    for tile in hl.tile(x.size(0)):
        out[tile] = x[tile] * alpha * n + beta + EPS * SCALE
    return out


matmul = helion.kernel(autotune_effort="none")(K.matmul)


@helion.kernel(autotune_effort="none")
def no_loops(x: torch.Tensor) -> torch.Tensor:
    return x + 1


# --- Config ------------------------------------------------------------------


def test_config_repr_is_a_valid_expression() -> None:
    config = helion.Config(
        num_warps=4, block_sizes=[[64, 128], [16]], loop_orders=[[1, 0]], indexing="block_ptr"
    )
    text = repr(config)
    assert text == (
        "helion.Config(block_sizes=[[64, 128], [16]], loop_orders=[[1, 0]], "
        "indexing='block_ptr', num_warps=4)"
    )
    assert eval(text, {"helion": helion}) == config


def test_config_is_a_mapping() -> None:
    config = helion.Config(block_sizes=[64, 16], num_warps=8, reduction_loops=[None, 32])
    assert config["num_warps"] == 8
    assert config.num_warps == 8
    assert dict(config) == {"block_sizes": [64, 16], "reduction_loops": [None, 32], "num_warps": 8}
    assert "block_sizes" in config and "num_stages" not in config
    assert len(config) == 3
    with pytest.raises(AttributeError):
        config.num_stages
    with pytest.raises(AttributeError):
        config.num_warps = 2  # type: ignore[misc]


def test_config_drops_none_and_accepts_tuples_and_tunables() -> None:
    config = helion.Config(block_sizes=(64, (16, 32)), num_stages=None, my_tunable=3)
    assert dict(config) == {"block_sizes": [64, [16, 32]], "my_tunable": 3}


def test_config_rejects_non_json_values() -> None:
    with pytest.raises(exc.InvalidConfig, match="num_warps: expected a JSON-like value"):
        helion.Config(num_warps=object())


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"num_warps": 2**63}, "num_warps: 9223372036854775808 does not fit in 64 bits"),
        ({"block_sizes": [[16, 2**64]]}, "block_sizes[0][1]: 18446744073709551616 does not fit"),
        ({"num_stages": -(2**63) - 1}, "num_stages: -9223372036854775809 does not fit"),
        ({"num_stages": 10**5000}, "num_stages: an int of 16610 bits does not fit in 64 bits"),
        ({"num_stages": float("nan")}, "num_stages: nan is not a finite number"),
        ({"l2_grouping": float("-inf")}, "l2_grouping: -inf is not a finite number"),
        ({"indexing": ["pointer", "\udc00"]}, "indexing[1]: '\\udc00' is not valid text"),
        ({"block_sizes": [[16], {1: 2}]}, "block_sizes[1]: expected string keys, got 1"),
        ({"num_warps": b"4"}, "num_warps: expected a JSON-like value"),
    ],
)
def test_config_rejects_values_the_core_cannot_read(fields, message) -> None:
    with pytest.raises(exc.InvalidConfig) as info:
        helion.Config(**fields)
    assert message in str(info.value), str(info.value)


def test_config_accepts_integer_likes_and_the_int64_edges() -> None:
    config = helion.Config(num_warps=torch.tensor(4).item(), block_sizes=[2**63 - 1, -(2**63)])
    assert dict(config) == {"block_sizes": [2**63 - 1, -(2**63)], "num_warps": 4}


def test_config_rejects_deep_nesting() -> None:
    value: list = [16]
    for _ in range(100_000):
        value = [value]
    with pytest.raises(exc.InvalidConfig, match=r"block_sizes(\[0\])+: nested deeper than 32"):
        helion.Config(block_sizes=value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "config JSON: Expecting value at line 1 column 1"),
        ('{"num_warps": 4', "config JSON: Expecting ',' delimiter at line 1 column 16"),
        ('{"num_warps": 4}}', "config JSON: Extra data at line 1 column 17"),
        ("\x00", "config JSON: Expecting value at line 1 column 1"),
        ("[1, 2]", "config JSON: expected an object of config fields, got list"),
        ("null", "config JSON: expected an object of config fields, got NoneType"),
        ("[" * 100_000 + "]" * 100_000, "config JSON: nested too deeply"),
        ('{"num_warps": NaN}', "num_warps: NaN is not a number a config can hold"),
        ('{"num_stages": [Infinity]}', "num_stages[0]: Infinity is not a number a config can hold"),
        ('{"num_stages": -Infinity}', "num_stages: -Infinity is not a number a config can hold"),
        ('{"num_warps": 1e400}', "num_warps: 1e400 is not a number a config can hold"),
        ('{"num_warps": 9223372036854775808}', "num_warps: 9223372036854775808 does not fit"),
        ('{"num_warps": ' + "9" * 5000 + "}", "num_warps: 99999999999999999999...(5000 digits)"),
        ('{"indexing": "\\ud800"}', "indexing: '\\ud800' is not valid text"),
        ('{"block_sizes": ' + "[" * 50 + "]" * 50 + "}", "nested deeper than 32 levels"),
    ],
)
def test_config_from_json_rejects_corrupt_text(text: str, message: str) -> None:
    with pytest.raises(exc.InvalidConfig) as info:
        helion.Config.from_json(text)
    assert message in str(info.value), str(info.value)
    assert info.value.__suppress_context__ or info.value.__context__ is None


def test_config_load_of_a_corrupt_file(tmp_path) -> None:
    path = tmp_path / "best.json"
    path.write_bytes(b'{"num_warps": 4, "indexing": "\xc3"}')
    with pytest.raises(exc.InvalidConfig, match="config JSON: not UTF-8 text"):
        helion.Config.load(path)
    path.write_bytes(b'{"num_warps": 4')
    with pytest.raises(exc.InvalidConfig, match="config JSON: Expecting ',' delimiter"):
        helion.Config.load(path)


def test_config_from_json_reads_bytes_and_rejects_other_input() -> None:
    assert helion.Config.from_json(b'{"num_warps": 4}') == helion.Config(num_warps=4)
    with pytest.raises(exc.InvalidConfig, match="config JSON: not UTF-8 text"):
        helion.Config.from_json(b'{"indexing": "\xff"}')
    with pytest.raises(exc.InvalidConfig, match="config JSON: expected text, got int"):
        helion.Config.from_json(4)  # type: ignore[arg-type]
    with pytest.raises(exc.InvalidConfig, match="config field names are strings"):
        helion.Config.from_dict({1: 2})  # type: ignore[dict-item]


def test_config_json_round_trip(tmp_path) -> None:
    config = helion.Config(block_sizes=[[64, 32], [32]], l2_grouping=8, use_yz_grid=False)
    assert json.loads(config.to_json()) == dict(config)
    assert helion.Config.from_json(config.to_json()) == config
    path = tmp_path / "best.json"
    config.save(path)
    assert helion.Config.load(path) == config
    assert helion.Config.load(str(path)) == config
    with pytest.raises(ValueError):
        helion.Config.from_json("[1, 2]")


def test_config_equality_and_hash() -> None:
    a = helion.Config(block_sizes=[64, 16], num_warps=4)
    b = helion.Config(num_warps=4, block_sizes=(64, 16))
    c = helion.Config(block_sizes=[64, 16], num_warps=8)
    assert a == b and hash(a) == hash(b)
    assert a != c
    assert a == {"block_sizes": [64, 16], "num_warps": 4}
    assert len({a, b, c}) == 2
    assert pickle.loads(pickle.dumps(a)) == a


# --- Settings ----------------------------------------------------------------


def test_settings_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in (
        "HELION_STATIC_SHAPES",
        "HELION_AUTOTUNE_EFFORT",
        "HELION_PRINT_OUTPUT_CODE",
        "HELION_FORCE_AUTOTUNE",
        "HELION_INDEX_DTYPE",
        "HELION_INTERPRET",
    ):
        monkeypatch.delenv(name, raising=False)
    settings = helion.Settings()
    assert settings.static_shapes is True
    assert settings.autotune_effort == "full"
    assert settings.print_output_code is False
    assert settings.force_autotune is False
    assert settings.index_dtype is None
    assert settings.dot_precision == "tf32"
    assert settings.autotune_config_overrides == {}
    assert settings.ignore_warnings == []
    assert settings.ref_mode == "off"


def test_settings_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELION_STATIC_SHAPES", "0")
    monkeypatch.setenv("HELION_AUTOTUNE_EFFORT", "none")
    monkeypatch.setenv("HELION_PRINT_OUTPUT_CODE", "1")
    monkeypatch.setenv("HELION_FORCE_AUTOTUNE", "1")
    monkeypatch.setenv("HELION_INDEX_DTYPE", "int64")
    monkeypatch.setenv("HELION_AUTOTUNE_RANDOM_SEED", "42")
    monkeypatch.setenv("HELION_AUTOTUNE_LOG_LEVEL", "WARNING")
    settings = helion.Settings()
    assert settings.static_shapes is False
    assert settings.autotune_effort == "none"
    assert settings.print_output_code is True
    assert settings.force_autotune is True
    assert settings.index_dtype == "int64"
    assert settings.autotune_random_seed == 42
    assert settings.autotune_log_level == 30
    # A keyword wins over the environment.
    assert helion.Settings(static_shapes=True).static_shapes is True


def test_settings_accept_torch_index_dtype() -> None:
    assert helion.Settings(index_dtype=torch.int64).index_dtype == "int64"
    with pytest.raises(ValueError, match="index_dtype"):
        helion.Settings(index_dtype=torch.float32)


def test_settings_reject_unknown_keyword() -> None:
    with pytest.raises(TypeError, match="autotune_efort"):
        helion.Settings(autotune_efort="none")
    with pytest.raises(TypeError, match="static_shape"):
        helion.kernel(static_shape=False)


def test_settings_reject_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(ValueError, match="autotune_effort"):
        helion.Settings(autotune_effort="max")
    monkeypatch.setenv("HELION_AUTOTUNE_RANDOM_SEED", "abc")
    with pytest.raises(ValueError, match="HELION_AUTOTUNE_RANDOM_SEED"):
        helion.Settings()


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [
        ("autotune_budget_seconds", -1, "above 0"),
        ("autotune_budget_seconds", float("nan"), "above 0"),
        ("autotune_compile_timeout", 0, "above 0"),
        ("autotune_compile_timeout", float("inf"), "above 0"),
        ("autotune_compile_timeout", "60", "above 0"),
        ("autotune_precompile_jobs", 0, "between 1 and 1024"),
        ("autotune_precompile_jobs", 2.0, "between 1 and 1024"),
        ("autotune_max_generations", -2, "between 0 and 1048576"),
        ("autotune_max_generations", 2**40, "between 0 and 1048576"),
        ("autotune_random_seed", 1.5, "an int"),
        ("autotune_random_seed", None, "an int"),
        ("autotune_config_overrides", [("num_warps", 4)], "a dict"),
    ],
)
def test_settings_reject_out_of_range_autotune_values(name: str, value, allowed: str) -> None:
    with pytest.raises(ValueError, match=name) as info:
        helion.Settings(**{name: value})
    assert allowed in str(info.value), str(info.value)


# --- the decorator -------------------------------------------------------------


def _body(x: torch.Tensor) -> torch.Tensor:
    return x


def test_decorator_forms() -> None:
    plain = helion.kernel(_body)
    called = helion.kernel()(_body)
    one = helion.kernel(config=helion.Config(block_sizes=[64]))(_body)
    many = helion.kernel(configs=[helion.Config(block_sizes=[64]), {"block_sizes": [128]}])(_body)
    tuned = helion.kernel(static_shapes=False, autotune_effort="quick")(_body)
    for k in (plain, called, one, many, tuned):
        assert isinstance(k, helion.Kernel)
        assert k.fn is _body
        assert k.__name__ == "_body"
    assert plain.configs == [] and called.configs == []
    assert one.configs == [helion.Config(block_sizes=[64])]
    assert many.configs == [helion.Config(block_sizes=[64]), helion.Config(block_sizes=[128])]
    assert tuned.settings.static_shapes is False
    assert tuned.settings.autotune_effort == "quick"


def test_decorator_with_settings_object() -> None:
    k = helion.kernel(settings=helion.Settings(static_shapes=False), print_output_code=True)(_body)
    assert k.settings.static_shapes is False and k.settings.print_output_code is True


def test_config_and_configs_together_is_an_error() -> None:
    with pytest.raises(ValueError, match="config"):
        helion.kernel(config=helion.Config(), configs=[helion.Config()])


@pytest.mark.parametrize(
    "source",
    [
        "def k(*args): pass",
        "def k(x, **kwargs): pass",
        "def k(x, *, y): pass",
    ],
)
def test_unsupported_signature(source: str) -> None:
    namespace: dict = {}
    exec(source, namespace)
    with pytest.raises(exc.UnsupportedSignature, match="not supported"):
        helion.kernel(namespace["k"])
    with pytest.raises(TypeError):
        helion.kernel()(namespace["k"])


def test_wrong_arguments_are_type_errors() -> None:
    x = torch.zeros(4)
    with pytest.raises(TypeError, match="add"):
        add(x)
    with pytest.raises(TypeError, match="add"):
        add(x, x, x)
    with pytest.raises(TypeError, match="add"):
        add(x, z=x)


def test_arguments_are_normalized_with_defaults() -> None:
    x = torch.zeros(4)
    assert scale_add.normalize_args(x, 1.5, 3) == (x, 1.5, 3, 2.0)
    assert scale_add.normalize_args(x, n=3, alpha=1.5, beta=1.0) == (x, 1.5, 3, 1.0)


# --- helion.language outside a kernel ---------------------------------------------


# hl.specialize is host code: outside the compiler it returns its argument.
_DEVICE_ONLY = [name for name in hl.__all__ if name not in ("constexpr", "Tile", "specialize")]


def test_specialize_is_the_identity_in_host_code() -> None:
    assert hl.specialize(128) == 128


@pytest.mark.parametrize("name", _DEVICE_ONLY)
def test_hl_outside_kernel(name: str) -> None:
    with pytest.raises(exc.NotInsideKernel, match=f"hl.{name} can only be called inside"):
        getattr(hl, name)(1)


def test_hl_names_from_spec() -> None:
    for name in (
        "tile",
        "grid",
        "zeros",
        "full",
        "arange",
        "register_block_size",
        "register_reduction_dim",
        "register_tunable",
        "specialize",
        "load",
        "store",
        "atomic_add",
        "dot",
        "reduce",
        "static_range",
    ):
        assert callable(getattr(hl, name))
    with pytest.raises(exc.NotInsideKernel):
        hl.Tile()


def test_constexpr_is_a_class() -> None:
    assert isinstance(hl.constexpr, type)
    assert hl.constexpr(3).value == 3
    assert hl.constexpr(3) == hl.constexpr(3)
    assert scale_add._constexpr == [False, False, True, False]


# --- errors -------------------------------------------------------------------------


_SPEC_ERRORS = [
    "NotInsideKernel",
    "NoTensorArgs",
    "NoDeviceLoopsInKernel",
    "InvalidDeviceForLoop",
    "NotAllowedOnDevice",
    "NestedGridLoop",
    "TopLevelStatementBetweenLoops",
    "HostTensorDirectUsage",
    "CannotModifyHostVariableOnDevice",
    "CannotReadDeviceVariableOnHost",
    "RankMismatch",
    "ShapeMismatch",
    "InvalidIndexingType",
    "IncorrectTileUsage",
    "SpecializeOnDevice",
    "IndexOffsetOutOfRangeForInt32",
    "UnsupportedOp",
    "UnsupportedSyntax",
    "InvalidConfig",
    "NoConfigFound",
    "TritonError",
    "InternalError",
    "CompileError",
]


@pytest.mark.parametrize("name", _SPEC_ERRORS)
def test_error_classes_exist(name: str) -> None:
    cls = getattr(exc, name)
    assert issubclass(cls, exc.Base) and not issubclass(cls, Warning)


def test_warning_class() -> None:
    assert issubclass(exc.TensorOperationInWrapper, exc.Base)
    assert issubclass(exc.TensorOperationInWrapper, UserWarning)


@pytest.mark.parametrize("kind", ["ShapeMismatch", "InvalidConfig", "UnsupportedSyntax"])
def test_core_user_error_maps_to_class(kind: str) -> None:
    message = f"{kind} in kernel 'k' at f.py:3:\n    x = y\n    ^\nsomething is wrong"
    error = exc._from_core(_core.UserError(kind, message))
    assert type(error) is getattr(exc, kind)
    assert str(error) == message


@pytest.mark.parametrize("kind", ["SomethingNew", "Base", "TensorOperationInWrapper", "__class__"])
def test_unknown_core_kind_maps_to_compile_error(kind: str) -> None:
    error = exc._from_core(_core.UserError(kind, "message"))
    assert type(error) is exc.CompileError
    assert str(error) == "message"


def test_core_internal_error() -> None:
    error = exc._from_core(_core.InternalError("boom"))
    assert type(error) is exc.InternalError
    assert str(error).startswith("internal compiler error: boom")


def test_core_rejects_malformed_request() -> None:
    with pytest.raises(_core.InternalError, match="malformed request"):
        _core.Kernel("{not json")


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[" * 100_000, "nesting deeper than 512"),
        ('{"a": 1e999}', "too large for a 64-bit float"),
        ('{"a": 18446744073709551616}', "does not fit in 64 bits"),
    ],
)
def test_core_rejects_malformed_json_without_crashing(text: str, message: str) -> None:
    with pytest.raises(_core.InternalError, match=f"malformed request: json: .*{message}"):
        _core.Kernel(text)
    with pytest.raises(_core.InternalError, match=f"malformed request: json: .*{message}"):
        _core.check_source(text)


NEG_INF = float("-inf")


def test_non_finite_global_constants_reach_the_kernel(device: str) -> None:
    # Python's json writes them as -Infinity and NaN; the core reads them back.
    @helion.kernel(autotune_effort="none")
    def clamp_below(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = torch.where(x[tile] < 0, NEG_INF, x[tile])
        return out

    x = torch.tensor([1.0, -2.0, 3.0], device=device)
    expected = torch.tensor([1.0, float("-inf"), 3.0], device=device)
    torch.testing.assert_close(clamp_below(x), expected)


def test_core_reads_bad_config_json_as_an_invalid_config() -> None:
    @helion.kernel(autotune_effort="none")
    def copy(x: torch.Tensor) -> torch.Tensor:
        out = torch.empty_like(x)
        for tile in hl.tile(x.size(0)):
            out[tile] = x[tile]
        return out

    bound = copy.bind((torch.randn(8),))
    for text, message in [
        ('{"num_warps": 9223372036854775808}', "does not fit in 64 bits"),
        ('{"num_warps": NaN}', "num_warps: expected an int, got NaN"),
        ("[" * 100_000, "nesting deeper than 512"),
    ]:
        with pytest.raises(_core.UserError) as info:
            bound._core.normalize_config(text)
        kind, rendered = info.value.args
        assert kind == "InvalidConfig" and message in rendered, rendered


# --- what the compiler is told --------------------------------------------------------


def test_request_for_kernel() -> None:
    x = torch.zeros(8, 4)
    request = build_request(
        scale_add.fn,
        SourceInfo(scale_add.fn),
        scale_add._param_names,
        scale_add._constexpr,
        (x, 1.5, 3, 2.0),
        helion.Settings(static_shapes=False),
    )
    json.dumps(request)
    assert request["kernel_name"] == "scale_add"
    assert request["filename"] == __file__
    assert request["source"].startswith('@helion.kernel(autotune_effort="none")\ndef scale_add(')
    with open(__file__) as file:
        lines = file.read().splitlines()
    assert lines[request["first_line"] - 1].startswith("@helion.kernel(autotune_effort")
    assert request["args"] == [
        {
            "name": "x",
            "kind": "tensor",
            "dtype": "float32",
            "shape": [8, 4],
            "stride": [4, 1],
            "device": "cpu",
        },
        {"name": "alpha", "kind": "float", "type": "float"},
        {"name": "n", "kind": "constexpr", "value": 3, "type": "int"},
        {"name": "beta", "kind": "float", "type": "float"},
    ]
    assert request["settings"] == {
        "static_shapes": False,
        "index_dtype": None,
        "dot_precision": "tf32",
        "persistent_reserved_sms": 0,
        "target": "interpreter" if os.environ.get("TRITON_INTERPRET") == "1" else "cuda",
    }
    globals_ = request["globals"]
    assert globals_["torch"] == {"kind": "module", "name": "torch"}
    assert globals_["hl"] == {"kind": "module", "name": "helion.language"}
    assert globals_["EPS"] == {"kind": "constant", "value": 1e-5}
    assert globals_["SCALE"] == {"kind": "constant", "value": 3}
    assert "range" not in globals_ and "size" not in globals_


def test_globals_from_closures_and_nested_code() -> None:
    dtype = torch.float16

    def helper(v):
        return v

    def fn(x):
        return [helper(v).to(dtype) for v in x if NAME and add]

    described = describe_globals(fn)
    assert described["dtype"] == {"kind": "dtype", "name": "float16"}
    assert described["NAME"] == {"kind": "constant", "value": "x"}
    assert described["helper"]["kind"] == "function"
    assert described["helper"]["source"].startswith("def helper(v):")
    assert described["add"]["kind"] == "function" and described["add"]["name"] == "add"


def test_specialization_key() -> None:
    static = make_key_function([False, False], static_shapes=True)
    dynamic = make_key_function([False, True], static_shapes=False)
    a, b = torch.zeros(8, 4), torch.zeros(16, 4)
    assert static((a, 1)) != static((b, 1))
    assert static((a, 1)) == static((torch.ones(8, 4), 2))
    assert static((a, 1)) != static((a, 1.0))
    assert static((a, 1)) != static((a.t(), 1))
    assert dynamic((a, 1)) == dynamic((b, 1))
    assert dynamic((a, 1)) != dynamic((a, 2))  # constexpr: by value
    assert dynamic((a, 1)) != dynamic((torch.zeros(1, 4), 1))
    assert dynamic((a, 1)) != dynamic((a.t(), 1))
    assert dynamic((a, 1)) != dynamic((a.half(), 1))


def test_load_module_writes_and_caches(tmp_path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELION_CACHE_DIR", str(tmp_path))
    text = "import inspect\n\ndef f(x):\n    return x + 1\n\nSOURCE = inspect.getsource(f)\n"
    module = load_module(text)
    assert module.f(1) == 2
    assert module.SOURCE.startswith("def f(x):")
    assert load_module(text) is module
    assert [p.suffix for p in tmp_path.iterdir()] == [".py"]


# --- through the compiler ----------------------------------------------------------------


def test_add(device: str) -> None:
    x = torch.randn(100, device=device)
    y = torch.randn(100, device=device)
    torch.testing.assert_close(add(x, y), x + y)
    # The second call takes the cached path.
    torch.testing.assert_close(add(y, x), x + y)
    assert len(add._bound) == 1


def test_matmul_default_config(device: str, capfd: pytest.CaptureFixture[str]) -> None:
    x = torch.randn(64, 32, device=device)
    y = torch.randn(32, 48, device=device)
    torch.testing.assert_close(matmul(x, y), x @ y, rtol=1e-2, atol=1e-2)
    assert "default config" in capfd.readouterr().err


def test_bound_kernel_api() -> None:
    x = torch.randn(64, 32)
    y = torch.randn(32, 16)
    bound = matmul.bind((x, y))
    assert matmul.bind((x, y)) is bound
    default = bound.config_spec.default_config()
    assert isinstance(default, helion.Config)
    code = bound.to_triton_code()
    assert "@triton.jit" in code
    assert "def _helion_matmul(" in code and "def matmul(" in code
    assert bound.to_triton_code(default) == code


def test_invalid_config_is_reported() -> None:
    bound = matmul.bind((torch.randn(64, 32), torch.randn(32, 16)))
    with pytest.raises(exc.InvalidConfig, match="block_sizes"):
        bound.to_triton_code(helion.Config(block_sizes=[[3, 5], [7]]))


def test_user_error_names_kernel_and_line() -> None:
    with pytest.raises(exc.NoDeviceLoopsInKernel) as info:
        no_loops.bind((torch.zeros(4),))
    assert "no_loops" in str(info.value)
    assert info.value.__cause__ is None and info.value.__suppress_context__


# --- the runtime, with a stand-in for the compiler core ----------------------------------

_FAKE_MODULE = """
import torch
import triton
import triton.language as tl


@triton.jit
def _helion_{name}(x, y, out, n, BLOCK: tl.constexpr):
    offsets = tl.program_id(0) * BLOCK + tl.arange(0, BLOCK)
    mask = offsets < n
    tl.store(out + offsets, tl.load(x + offsets, mask) + tl.load(y + offsets, mask), mask)


def {name}(x, y):
    out = torch.empty_like(x)
    n = x.numel()
    _helion_{name}[(triton.cdiv(n, {block}),)](x, y, out, n, {block})
    return out
"""


class _FakeCore:
    """Generates a fixed Triton module whose block size comes from the config."""

    generated: list[dict] = []

    def __init__(self, request_json: str) -> None:
        self.request = json.loads(request_json)

    def default_config(self) -> str:
        return json.dumps({"block_sizes": [16], "num_warps": 4})

    def normalize_config(self, config_json: str) -> str:
        config = {"block_sizes": [16], "num_warps": 4, **json.loads(config_json)}
        if config["block_sizes"][0] & (config["block_sizes"][0] - 1):
            raise _core.UserError("InvalidConfig", "block_sizes[0] must be a power of two")
        return json.dumps(config)

    def config_spec(self) -> str:
        block = {"call": 0, "dims": 1, "grid": True, "size_hints": [1 << 20], "min": [1]}
        return json.dumps({"block_sizes": [{**block, "max": [1024], "fixed": [None]}]})

    def warnings(self) -> list[tuple[str, str]]:
        return []

    def generate(self, config_json: str) -> str:
        config = json.loads(config_json)
        _FakeCore.generated.append(config)
        return _FAKE_MODULE.format(name=self.request["kernel_name"], block=config["block_sizes"][0])

    def autotune(self, options_json: str, evaluate, log) -> str:
        """Measures the given configs once and keeps the fastest."""
        configs = json.loads(options_json)["configs"]
        measured = json.loads(evaluate(json.dumps(configs), "search"))
        timed = [(m["time_ms"], c) for c, m in zip(configs, measured) if m["error"] is None]
        best_ms, best = min(timed, key=lambda item: item[0])
        return json.dumps(
            {
                "best": best,
                "best_time_ms": best_ms,
                "configs_measured": len(configs),
                "seconds": 0.0,
                "history": [],
                "best_over_time": [],
            }
        )


@pytest.fixture
def fake_core(monkeypatch: pytest.MonkeyPatch) -> type[_FakeCore]:
    monkeypatch.setattr(_core, "Kernel", _FakeCore)
    _FakeCore.generated = []
    return _FakeCore


def _pair(device: str, n: int = 50) -> tuple[torch.Tensor, torch.Tensor]:
    return torch.randn(n, device=device), torch.randn(n, device=device)


def test_runtime_launches_and_caches(fake_core, device: str) -> None:
    k = helion.kernel(config=helion.Config(block_sizes=[32]))(K.add)
    x, y = _pair(device)
    torch.testing.assert_close(k(x, y), x + y)
    x2, y2 = _pair(device)
    torch.testing.assert_close(k(x2, y2), x2 + y2)
    assert fake_core.generated == [{"block_sizes": [32], "num_warps": 4}]
    (bound,) = k._bound.values()
    assert bound.config == helion.Config(block_sizes=[32], num_warps=4)
    # A new specialization compiles again.
    x3, y3 = _pair(device, 70)
    torch.testing.assert_close(k(x3, y3), x3 + y3)
    assert len(k._bound) == 2
    k.reset()
    assert not k._bound


@pytest.mark.skipif(torch.cuda.is_available(), reason="CPU tensors need the interpreter")
def test_runtime_configs_on_cpu_take_the_first(fake_core) -> None:
    configs = [helion.Config(block_sizes=[64]), helion.Config(block_sizes=[8])]
    k = helion.kernel(configs=configs)(K.add)
    x, y = _pair("cpu")
    torch.testing.assert_close(k(x, y), x + y)
    assert k.bind((x, y)).config["block_sizes"] == [64]


def test_runtime_effort_none_says_default_once(fake_core, capfd, device: str) -> None:
    k = helion.kernel(autotune_effort="none")(K.add)
    x, y = _pair(device)
    k(x, y)
    k(*_pair(device, 10))
    err = capfd.readouterr().err
    assert err.count("uses the default config") == 1
    assert "helion.Config(block_sizes=[16], num_warps=4)" in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="on a GPU the kernel autotunes")
def test_runtime_without_autotuner_warns(fake_core, device: str) -> None:
    k = helion.kernel(K.add)
    with pytest.warns(exc.AutotuningUnavailable, match="default config"):
        k(*_pair(device))
    quiet = helion.kernel(ignore_warnings=[exc.AutotuningUnavailable])(K.add)
    import warnings

    with warnings.catch_warnings():
        warnings.simplefilter("error")
        quiet(*_pair(device))


def test_runtime_autotuner_fn(fake_core, device: str) -> None:
    seen = []

    def autotuner(bound, args):
        seen.append(bound)
        return helion.Config(block_sizes=[128])

    k = helion.kernel(autotuner_fn=autotuner)(K.add)
    x, y = _pair(device)
    assert k.autotune((x, y)) == helion.Config(block_sizes=[128], num_warps=4)
    torch.testing.assert_close(k(x, y), x + y)
    assert len(seen) == 1


def test_runtime_print_output_code(fake_core, capfd, device: str) -> None:
    k = helion.kernel(config=helion.Config(block_sizes=[32]), print_output_code=True)(K.add)
    k(*_pair(device))
    assert "def _helion_add(" in capfd.readouterr().err


def test_runtime_bound_kernel_api(fake_core, device: str) -> None:
    x, y = _pair(device)
    bound = helion.kernel(K.add).bind((x, y))
    assert bound.config_spec.default_config() == helion.Config(block_sizes=[16], num_warps=4)
    assert "_helion_add[(triton.cdiv(n, 16),)]" in bound.to_triton_code()
    assert "triton.cdiv(n, 64)" in bound.to_triton_code({"block_sizes": [64]})
    bound.set_config(helion.Config(block_sizes=[64]))
    torch.testing.assert_close(bound(x, y), x + y)
    with pytest.raises(exc.InvalidConfig, match="power of two"):
        bound.set_config(helion.Config(block_sizes=[48]))


def test_runtime_needs_interpreter_for_cpu_tensors(fake_core, monkeypatch) -> None:
    monkeypatch.setenv("TRITON_INTERPRET", "0")
    k = helion.kernel(config=helion.Config(block_sizes=[32]))(K.add)
    with pytest.raises(exc.TritonInterpreterRequired, match="TRITON_INTERPRET=1"):
        k(*_pair("cpu"))


@pytest.mark.gpu
def test_runtime_configs_are_timed_on_gpu(fake_core, capfd) -> None:
    configs = [helion.Config(block_sizes=[16]), helion.Config(block_sizes=[256])]
    k = helion.kernel(configs=configs)(K.add)
    x, y = _pair("cuda", 1 << 20)
    torch.testing.assert_close(k(x, y), x + y)
    assert "fastest of 2 configs" in capfd.readouterr().err
    assert k.bind((x, y)).config["block_sizes"] in ([16], [256])
