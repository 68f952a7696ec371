"""Atomics that return the old values, and hl.atomic_cas: each atomic's old
values against a torch reference, masks at odd sizes, memory orders, a
ticket counter, a compare-and-swap spin lock and a maximum by compare-and-
swap, and the errors for bad dtypes and memory orders. Triton's interpreter
runs programs one after another, so the tests marked gpu are the ones that
see programs race."""

from __future__ import annotations

import re
from typing import Callable

import pytest
import torch

import helion
import helion.language as hl
from helion import exc
from helion._testing import code_and_output

# --- kernels (module level: the compiler reads their source) ----------------------------


@helion.kernel(autotune_effort="none")
def take_tickets(x: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
    """Every lane takes a ticket from one counter: the tickets are 0..n-1."""
    (n,) = x.size()
    tickets = torch.empty([n], dtype=torch.int32, device=x.device)
    for tile in hl.tile(n):
        tickets[tile] = hl.atomic_add(counter, [tile.index * 0], 1)
    return tickets


@helion.kernel(autotune_effort="none")
def program_tickets(x: torch.Tensor, counter: torch.Tensor) -> torch.Tensor:
    """One ticket per program (a scalar atomic), written over its tile."""
    (n,) = x.size()
    tickets = torch.empty([n], dtype=torch.int32, device=x.device)
    for tile in hl.tile(n):
        ticket = hl.atomic_add(counter, [0], 1, sem="acq_rel")
        tickets[tile] = hl.zeros([tile], dtype=torch.int32) + ticket
    return tickets


@helion.kernel(autotune_effort="none")
def add_old(target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_add(target, [tile], value[tile])
    return old


@helion.kernel(autotune_effort="none")
def max_old(target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_max(target, [tile], value[tile])
    return old


@helion.kernel(autotune_effort="none")
def min_old(target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_min(target, [tile], value[tile])
    return old


@helion.kernel(autotune_effort="none")
def and_old(target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_and(target, [tile], value[tile])
    return old


@helion.kernel(autotune_effort="none")
def or_old(target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_or(target, [tile], value[tile])
    return old


@helion.kernel(autotune_effort="none")
def xor_old(target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_xor(target, [tile], value[tile])
    return old


@helion.kernel(autotune_effort="none")
def xchg_old(target: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_xchg(target, [tile], value[tile])
    return old


@helion.kernel(autotune_effort="none")
def cas_old(target: torch.Tensor, expected: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_cas(target, [tile], expected[tile], value[tile])
    return old


@helion.kernel(autotune_effort="none")
def cas_constants(target: torch.Tensor) -> torch.Tensor:
    """Claims the slots still 0 (numbers take the target's dtype)."""
    (n,) = target.size()
    claimed = torch.empty([n], dtype=torch.bool, device=target.device)
    for tile in hl.tile(n):
        claimed[tile] = hl.atomic_cas(target, [tile], 0, 7, sem="acquire") == 0
    return claimed


@helion.kernel(autotune_effort="none")
def add_with_sem(target: torch.Tensor, value: torch.Tensor, sem: hl.constexpr) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_add(target, [tile], value[tile], sem=sem)
        hl.atomic_max(target, [tile], value[tile], sem=sem)
    return old


@helion.kernel(autotune_effort="none")
def locked_append(x: torch.Tensor, lock: torch.Tensor, log: torch.Tensor) -> torch.Tensor:
    """Each program appends its first element to `log` under a spin lock:
    log[0] counts the entries, which follow it."""
    (n,) = x.size()
    for tile in hl.tile(n):
        while hl.atomic_cas(lock, [0], 0, 1, sem="acquire") != 0:
            pass
        count = log[0]
        log[count + 1] = x[tile.begin]
        log[0] = count + 1
        hl.atomic_xchg(lock, [0], 0, sem="release")
    return log


@helion.kernel(autotune_effort="none")
def max_by_cas(keys: torch.Tensor, best: torch.Tensor) -> torch.Tensor:
    """The largest key by compare-and-swap: read, then swap while larger."""
    (n,) = keys.size()
    for i in hl.grid(n):
        key = keys[i]
        seen = hl.atomic_add(best, [0], 0)
        while seen < key:
            seen = hl.atomic_cas(best, [0], seen, key, sem="acq_rel")
    return best


@helion.kernel(autotune_effort="none")
def bad_sem(target: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    for tile in hl.tile(n):
        hl.atomic_add(target, [tile], 1, sem="seq_cst")
    return target


@helion.kernel(autotune_effort="none")
def bitwise_on_floats(target: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    for tile in hl.tile(n):
        hl.atomic_or(target, [tile], 1)
    return target


@helion.kernel(autotune_effort="none")
def cas_on_bytes(target: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_cas(target, [tile], 0, 1)
    return old


@helion.kernel(autotune_effort="none")
def cas_float_expected(target: torch.Tensor, expected: torch.Tensor) -> torch.Tensor:
    (n,) = target.size()
    old = torch.empty_like(target)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_cas(target, [tile], expected[tile], 1)
    return old


@helion.kernel(autotune_effort="none")
def atomic_on_device_value(x: torch.Tensor) -> torch.Tensor:
    (n,) = x.size()
    for tile in hl.tile(n):
        acc = hl.zeros([tile], dtype=torch.float32)
        hl.atomic_add(acc, [tile], x[tile])
    return x


@helion.kernel(autotune_effort="none")
def reduce_then_add(x: torch.Tensor, total: torch.Tensor) -> torch.Tensor:
    """A value-returning atomic along a reduction dimension."""
    m, n = x.size()
    old = torch.empty([m, n], dtype=torch.float32, device=x.device)
    for tile in hl.tile(m):
        old[tile, :] = hl.atomic_add(total, [tile, slice(None)], x[tile, :])
    return old


# --- old values, one atomic at a time -----------------------------------------------------

_N = 37  # block size 16: the last tile runs past the end


def _ints(seed: int, device: str, low: int = -50, high: int = 50) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randint(low, high, (_N,), generator=g, dtype=torch.int32).to(device)


def _floats(seed: int, device: str) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    return torch.randn(_N, generator=g).to(device)


_CASES = [
    (add_old, torch.add, torch.int32),
    (add_old, torch.add, torch.float32),
    (add_old, torch.add, torch.int64),
    (max_old, torch.maximum, torch.int32),
    (max_old, torch.maximum, torch.float32),
    (min_old, torch.minimum, torch.int32),
    (min_old, torch.minimum, torch.int64),
    (and_old, torch.bitwise_and, torch.int32),
    (or_old, torch.bitwise_or, torch.int64),
    (xor_old, torch.bitwise_xor, torch.int32),
    (xchg_old, lambda old, new: new, torch.int32),
    # Triton 3.6's interpreter exchanges integers only.
    pytest.param(xchg_old, lambda old, new: new, torch.float32, marks=pytest.mark.gpu),
]


@pytest.mark.parametrize(
    ("kernel", "reference", "dtype"),
    _CASES,
    ids=lambda v: (
        v.fn.__name__
        if isinstance(v, helion.Kernel)
        else str(v).removeprefix("torch.")
        if isinstance(v, torch.dtype)
        else ""
    ),
)
def test_each_atomic_returns_the_old_values(
    device: str, kernel: helion.Kernel, reference: Callable, dtype: torch.dtype
) -> None:
    if dtype.is_floating_point:
        start, value = _floats(1, device).to(dtype), _floats(2, device).to(dtype)
    else:
        start, value = _ints(1, device).to(dtype), _ints(2, device).to(dtype)
    target = start.clone()
    code, old = code_and_output(kernel, (target, value), block_sizes=[16])
    assert "old" in code and " = tl.atomic_" in code, code
    torch.testing.assert_close(old, start)
    torch.testing.assert_close(target, reference(start, value))


def test_cas_swaps_where_the_target_holds_the_expected_value(device: str) -> None:
    start = _ints(3, device, 0, 4)
    expected = _ints(4, device, 0, 4)
    value = _ints(5, device, 10, 20)
    target = start.clone()
    code, old = code_and_output(cas_old, (target, expected, value), block_sizes=[16])
    # tl.atomic_cas has no mask: the lanes past the end swap nothing instead.
    assert "tl.atomic_cas(tl.where(" in code, code
    torch.testing.assert_close(old, start)
    torch.testing.assert_close(target, torch.where(start == expected, value, start))
    assert 0 < int((start == expected).sum()) < _N  # both outcomes happen


@pytest.mark.parametrize("dtype", [torch.int16, torch.int32, torch.int64, torch.float32])
def test_cas_with_numbers_takes_the_targets_dtype(device: str, dtype: torch.dtype) -> None:
    start = (torch.arange(_N, device=device) % 3).to(dtype)
    target = start.clone()
    code, claimed = code_and_output(cas_constants, (target,), block_sizes=[16])
    assert "sem='acquire'" in code, code
    assert claimed.tolist() == (start == 0).tolist()
    torch.testing.assert_close(target, torch.where(start == 0, torch.full_like(start, 7), start))


# --- counters, locks, compare-and-swap loops --------------------------------------------


@pytest.mark.parametrize("n", [1, 37, 64])
def test_tickets_are_unique_and_cover_every_lane(device: str, n: int) -> None:
    counter = torch.zeros(1, dtype=torch.int32, device=device)
    _, tickets = code_and_output(
        take_tickets, (torch.zeros(n, device=device), counter), block_sizes=[16]
    )
    assert sorted(tickets.tolist()) == list(range(n))
    assert counter.item() == n  # the lanes past the end took none


def test_scalar_atomics_give_each_program_one_ticket(device: str) -> None:
    counter = torch.full((1,), 5, dtype=torch.int32, device=device)
    code, tickets = code_and_output(
        program_tickets, (torch.zeros(_N, device=device), counter), block_sizes=[16]
    )
    assert "sem='acq_rel'" in code, code
    programs = (_N + 15) // 16
    per_program = tickets.view(-1)[:: 16].tolist()
    assert sorted(per_program) == list(range(5, 5 + programs))
    assert all(t == tickets[16 * (i // 16)].item() for i, t in enumerate(tickets.tolist()))
    assert counter.item() == 5 + programs


def test_spin_lock_serializes_the_programs(device: str) -> None:
    x = torch.arange(100, 100 + _N, dtype=torch.int32, device=device)
    lock = torch.zeros(1, dtype=torch.int32, device=device)
    log = torch.zeros(_N + 1, dtype=torch.int32, device=device)
    code, out = code_and_output(locked_append, (x, lock, log), block_sizes=[4])
    assert "while " in code and "tl.atomic_cas(" in code, code
    programs = (_N + 3) // 4
    assert out[0].item() == programs
    assert sorted(out[1 : programs + 1].tolist()) == x[::4].tolist()
    assert lock.item() == 0


def test_maximum_by_compare_and_swap(device: str) -> None:
    g = torch.Generator().manual_seed(7)
    keys = torch.randint(0, 1 << 40, (_N,), generator=g, dtype=torch.int64).to(device)
    best = torch.zeros(1, dtype=torch.int64, device=device)
    _, out = code_and_output(max_by_cas, (keys, best))
    assert out.item() == keys.max().item()


@pytest.mark.parametrize("sem", ["relaxed", "acquire", "release", "acq_rel"])
def test_every_memory_order_is_passed_through(device: str, sem: str) -> None:
    start, value = _ints(6, device), _ints(7, device)
    target = start.clone()
    code, old = code_and_output(add_with_sem, (target, value, sem), block_sizes=[16])
    assert code.count(f"sem='{sem}'") == 2, code
    torch.testing.assert_close(old, start)
    torch.testing.assert_close(target, torch.maximum(start + value, value))


def test_unused_atomics_stay_statements() -> None:
    target, value = torch.zeros(64, dtype=torch.int32), torch.ones(64, dtype=torch.int32)
    code = add_with_sem.bind((target, value, "relaxed")).to_triton_code(
        helion.Config(block_sizes=[16])
    )
    lines = [line.strip() for line in code.splitlines()]
    assert any(re.match(r"\w+ = tl\.atomic_add\(", line) for line in lines), code
    assert any(line.startswith("tl.atomic_max(") for line in lines), code


# --- errors -----------------------------------------------------------------------------


def _check_error(error: BaseException, kernel: str, line: str, *words: str) -> None:
    message = str(error)
    assert f"in kernel '{kernel}'" in message, message
    assert line in message, message
    assert "^" in message, message
    for word in words:
        assert word in message, message


def test_an_unknown_memory_order_is_rejected() -> None:
    with pytest.raises(exc.InvalidAPIUsage) as error:
        bad_sem(torch.zeros(8, dtype=torch.int32))
    _check_error(
        error.value,
        "bad_sem",
        'hl.atomic_add(target, [tile], 1, sem="seq_cst")',
        'sem="seq_cst"',
        '"relaxed", "acquire", "release" or "acq_rel"',
    )


@pytest.mark.parametrize(
    ("kernel", "target", "words"),
    [
        (bitwise_on_floats, torch.zeros(8), ("hl.atomic_or", "float32", "int32, int64")),
        (bitwise_on_floats, torch.zeros(8, dtype=torch.int16), ("hl.atomic_or", "int16")),
        (cas_on_bytes, torch.zeros(8, dtype=torch.int8), ("hl.atomic_cas", "int8", "int16")),
        (cas_on_bytes, torch.zeros(8, dtype=torch.bool), ("hl.atomic_cas", "bool")),
    ],
)
def test_dtypes_triton_has_no_atomic_for_are_rejected(
    kernel: helion.Kernel, target: torch.Tensor, words: tuple[str, ...]
) -> None:
    with pytest.raises(exc.UnsupportedOp) as error:
        kernel(target)
    line = "hl.atomic_or(target" if kernel is bitwise_on_floats else "hl.atomic_cas(target"
    _check_error(error.value, kernel.fn.__name__, line, *words)


def test_half_precision_max_is_rejected() -> None:
    target = torch.zeros(_N, dtype=torch.float16)
    with pytest.raises(exc.UnsupportedOp) as error:
        max_old(target, target)
    _check_error(error.value, "max_old", "hl.atomic_max(", "float16", "float32, float64")


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_old_values_of_float_minimums_are_rejected(dtype: torch.dtype) -> None:
    target = torch.zeros(_N, dtype=dtype)
    with pytest.raises(exc.UnsupportedOp) as error:
        min_old(target, target)
    _check_error(error.value, "min_old", "hl.atomic_min(", "cannot return the old values")


def test_cas_operands_of_another_dtype_are_rejected() -> None:
    with pytest.raises(exc.InvalidAPIUsage) as error:
        cas_float_expected(torch.zeros(8, dtype=torch.int32), torch.zeros(8))
    _check_error(
        error.value,
        "cas_float_expected",
        "hl.atomic_cas(target, [tile], expected[tile], 1)",
        "expected has dtype float32",
        "'target' has dtype int32",
    )


def test_atomics_on_device_values_are_rejected() -> None:
    with pytest.raises(exc.AtomicOnDeviceTensor) as error:
        atomic_on_device_value(torch.zeros(8))
    _check_error(error.value, "atomic_on_device_value", "hl.atomic_add(acc, [tile], x[tile])")


def test_old_values_along_a_looped_reduction_need_a_persistent_one(device: str) -> None:
    x = torch.randn(4, 64, device=device)
    total = torch.ones(4, 64, device=device)
    _, old = code_and_output(reduce_then_add, (x, total.clone()), block_sizes=[2])
    torch.testing.assert_close(old, total)
    with pytest.raises(exc.InvalidConfig, match="reduction_loops=\\[None\\]"):
        code_and_output(reduce_then_add, (x, total.clone()), block_sizes=[2], reduction_loops=[16])


# --- programs racing (GPU) ----------------------------------------------------------------


@pytest.mark.gpu
def test_tickets_are_unique_across_racing_programs() -> None:
    n = 1 << 20
    counter = torch.zeros(1, dtype=torch.int32, device="cuda")
    _, tickets = code_and_output(
        take_tickets, (torch.zeros(n, device="cuda"), counter), block_sizes=[256]
    )
    torch.cuda.synchronize()
    assert counter.item() == n
    assert torch.equal(torch.sort(tickets).values, torch.arange(n, device="cuda", dtype=torch.int32))


@pytest.mark.gpu
def test_spin_lock_keeps_racing_programs_apart() -> None:
    n = 4 * 4096  # 4096 programs, far more than run at once
    x = torch.arange(n, dtype=torch.int32, device="cuda")
    lock = torch.zeros(1, dtype=torch.int32, device="cuda")
    log = torch.zeros(n + 1, dtype=torch.int32, device="cuda")
    _, out = code_and_output(locked_append, (x, lock, log), block_sizes=[4])
    torch.cuda.synchronize()
    programs = n // 4
    # A lost update under a broken lock leaves fewer entries or repeats one.
    assert out[0].item() == programs
    assert torch.equal(torch.sort(out[1 : programs + 1]).values, x[::4])
    assert lock.item() == 0


@pytest.mark.gpu
def test_maximum_by_compare_and_swap_across_racing_programs() -> None:
    g = torch.Generator().manual_seed(11)
    keys = torch.randint(0, 1 << 40, (1 << 16,), generator=g, dtype=torch.int64).cuda()
    best = torch.zeros(1, dtype=torch.int64, device="cuda")
    _, out = code_and_output(max_by_cas, (keys, best))
    torch.cuda.synchronize()
    assert out.item() == keys.max().item()


@pytest.mark.gpu
@pytest.mark.parametrize("dtype", [torch.int32, torch.float32])
def test_old_values_of_racing_adds_are_the_running_sums(dtype: torch.dtype) -> None:
    """Every lane adds 1 to one of 8 slots: each slot's old values are 0..k-1."""
    n = 1 << 16
    value = torch.ones(n, dtype=dtype, device="cuda")
    slots = torch.zeros(8, dtype=dtype, device="cuda")
    index = torch.arange(n, device="cuda") % 8
    _, old = code_and_output(scatter_add_old, (slots, index, value), block_sizes=[128])
    torch.cuda.synchronize()
    for slot in range(8):
        got = torch.sort(old[index == slot].to(torch.int64)).values
        assert torch.equal(got, torch.arange(n // 8, device="cuda"))
    assert slots.tolist() == [n // 8] * 8


@helion.kernel(autotune_effort="none")
def scatter_add_old(slots: torch.Tensor, index: torch.Tensor, value: torch.Tensor) -> torch.Tensor:
    (n,) = index.size()
    old = torch.empty([n], dtype=slots.dtype, device=slots.device)
    for tile in hl.tile(n):
        old[tile] = hl.atomic_add(slots, [index[tile]], value[tile])
    return old


def test_old_values_of_scattered_adds_are_the_running_sums(device: str) -> None:
    value = torch.ones(_N, dtype=torch.int32, device=device)
    slots = torch.zeros(3, dtype=torch.int32, device=device)
    index = torch.arange(_N, device=device) % 3
    _, old = code_and_output(scatter_add_old, (slots, index, value), block_sizes=[16])
    for slot in range(3):
        count = int((index == slot).sum())
        assert sorted(old[index == slot].tolist()) == list(range(count))
    assert slots.tolist() == [int((index == s).sum()) for s in range(3)]


def test_atomics_over_an_empty_dimension(device: str) -> None:
    empty = torch.zeros(0, device=device)
    assert add_old(empty.clone(), empty).shape == (0,)
    counter = torch.zeros(1, dtype=torch.int32, device=device)
    assert take_tickets(empty, counter).shape == (0,)
    assert counter.item() == 0
