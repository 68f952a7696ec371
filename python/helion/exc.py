"""Errors and warnings raised by Helion.

Every error derives from :class:`Base`. Errors found by the compiler carry a
message that names the kernel and shows the offending source line with a
caret under it; the class tells what kind of mistake it is.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any


class Base(RuntimeError):
    """Root of every Helion error and warning."""


class BaseError(Base):
    """Root of every Helion error (warnings derive from :class:`BaseWarning`)."""


class CompileError(BaseError):
    """A compiler error of a kind this package has no dedicated class for."""


class InternalError(BaseError):
    """A bug in Helion itself, never the user's fault: please report it."""


# --- used outside a kernel -------------------------------------------------


class NotInsideKernel(BaseError):
    """An ``hl`` function was called outside a ``@helion.kernel`` device loop."""


class UnsupportedSignature(BaseError, TypeError):
    """The kernel's signature uses ``*args``, ``**kwargs`` or keyword-only parameters."""


class TritonInterpreterRequired(BaseError):
    """CPU tensors were passed while Triton's interpreter is off."""


class GPURequired(BaseError):
    """The kernel computes in a dtype Triton's interpreter cannot (float8): it needs a GPU."""


class UnsupportedSetting(BaseError, ValueError):
    """A setting of Helion's with a value this implementation cannot honour; the message
    names the kernel and what to use instead."""


class InvalidArgument(BaseError, TypeError):
    """A kernel argument the kernel cannot take: a non-tensor where the kernel uses a tensor,
    a tensor on the meta device, text that is not valid Unicode; names the argument."""


# --- kernel structure ------------------------------------------------------


class NoTensorArgs(BaseError):
    pass


class NoDeviceLoopsInKernel(BaseError):
    pass


class InvalidDeviceForLoop(BaseError):
    pass


class NotAllowedOnDevice(BaseError):
    pass


class NestedGridLoop(BaseError):
    pass


class TopLevelStatementBetweenLoops(BaseError):
    pass


class HostTensorDirectUsage(BaseError):
    pass


class CannotModifyHostVariableOnDevice(BaseError):
    pass


class CannotReadDeviceVariableOnHost(BaseError):
    pass


class SpecializeOnDevice(BaseError):
    pass


class UnsupportedSyntax(BaseError):
    """Python syntax outside the subset Helion compiles."""


class UnsupportedOp(BaseError):
    """A torch op or function the compiler cannot lower; the message says what is supported."""


# --- types, shapes and indexing --------------------------------------------


class RankMismatch(BaseError):
    pass


class ShapeMismatch(BaseError):
    pass


class DeviceMismatch(BaseError):
    """Tensors a kernel uses live on different devices."""


class InvalidIndexingType(BaseError):
    pass


class IncorrectTileUsage(BaseError):
    pass


class IndexOffsetOutOfRangeForInt32(BaseError):
    pass


# --- configs, autotuning and Triton ----------------------------------------


class UndefinedVariable(BaseError):
    """A name used in the kernel is defined nowhere the kernel can see."""


class TorchOpTracingError(BaseError, TypeError):
    """A torch op in the kernel is called with arguments torch does not take."""


class InvalidConfig(BaseError, ValueError):
    """A config that does not fit the kernel: names the field, the value and what is allowed."""


class NoConfigFound(BaseError):
    """Every candidate config failed."""


class AutotuningDeviceError(BaseError):
    """A candidate kernel left the GPU unusable for this process (a CUDA error
    such as an illegal memory access); the search stops and names the config."""


class TritonError(BaseError):
    """Triton rejected the generated code; the message shows the code and Triton's error."""


# --- warnings --------------------------------------------------------------


class BaseWarning(Base, UserWarning):
    """Root of Helion's warnings."""


class TensorOperationInWrapper(BaseWarning):
    """A tensor operation in host code: it runs eagerly and is not fused into the kernel."""


class AutotuningUnavailable(BaseWarning):
    """The default config is used because autotuning is not started under Triton's interpreter."""


class InterpreterBFloat16(BaseWarning):
    """A kernel computes in bfloat16 under Triton's interpreter, whose bfloat16 arithmetic is
    wrong (Triton 3.6): its results can be wrong."""


class CacheDirectoryFallback(BaseWarning):
    """The cache directory asked for (or the default one) is unusable or unsafe; the message
    says why and which directory is used instead."""


# --- the rest of Helion's classes ------------------------------------------
# So that `except helion.exc.X` works for every class users of Helion name.
# The compiler raises the closest of the classes above where it detects one
# of these conditions today.


class AssignmentMultipleTargets(BaseError):
    pass


class AtomicOnDeviceTensor(BaseError):
    pass


class AutodiffKernelNotCalled(BaseError):
    pass


class AutodiffNotSupported(BaseError):
    pass


class AutotuneError(BaseError):
    pass


class AutotuningDisallowedInEnvironment(BaseError):
    pass


class BackendImplementationMissing(BaseError):
    pass


class BackendUnsupported(BaseError):
    pass


class BarrierOnlyAllowedAtTopLevel(BaseError):
    pass


class BarrierRequiresPersistent(BaseError):
    pass


class BreakpointInDeviceLoopRequiresInterpret(BaseError):
    pass


class CacheAssertionError(BaseError):
    pass


class CantCombineTypesInControlFlow(BaseError):
    pass


class CantReadOnDevice(BaseError):
    pass


class ClosureMutation(BaseError):
    pass


class ClosuresNotSupported(BaseError):
    pass


class ConfigSpecFragmentWithSymInt(BaseError):
    pass


class ControlFlowTensorMismatch(BaseError):
    pass


class DecoratorAfterHelionKernelDecorator(BaseError):
    pass


class DeviceAPIOnHost(BaseError):
    pass


class DeviceLoopElseBlock(BaseError):
    pass


class DeviceTensorSubscriptAssignmentNotAllowed(BaseError):
    pass


class DotBatchDimensionMismatch(BaseError):
    pass


class DuplicateStoreIndicesError(BaseError):
    pass


class EmptyDeviceLoopAfterDCE(BaseError):
    pass


class ErrorCompilingKernel(BaseError):
    pass


class FailedToUnpackTile(BaseError):
    pass


class FailedToUnpackTupleAssign(BaseError):
    pass


class GlobalMutation(BaseError):
    pass


class GraphModuleUnsupportedOps(BaseError):
    pass


class IncompatibleInterpretModes(BaseError):
    pass


class InconsistantConfigsAcrossRanks(BaseError):
    pass


class InductorLoweringError(BaseError):
    pass


class InputTensorNumelExceedsIndexType(BaseError):
    pass


class InvalidAPIUsage(BaseError):
    pass


class InvalidAssignment(BaseError):
    pass


class InvalidJaggedTileUsage(BaseError):
    pass


class InvalidReductionDim(BaseError):
    pass


class InvalidSequenceSubscription(BaseError):
    pass


class InvalidTileRange(BaseError):
    pass


class LoopDependencyError(BaseError):
    pass


class LoopFunctionNotInFor(BaseError):
    pass


class MissingEnableTile(BaseError):
    pass


class MultipleReductionDims(BaseError):
    pass


class NamingConflict(BaseError):
    pass


class NestedDeviceLoopsConflict(BaseError):
    pass


class NestedKernelCallsNotSupported(BaseError):
    pass


class NonTensorSubscriptAssign(BaseError):
    pass


class NotAllowedInHelperFunction(BaseError):
    pass


class NotEnoughConfigs(BaseError):
    pass


class OverpackedTile(BaseError):
    pass


class ProcessGroupNameNotFound(BaseError):
    pass


class ReductionDimInvalidForShape(BaseError):
    pass


class ReductionOnNonTile(BaseError):
    pass


class RefEagerModeCodePrintError(BaseError):
    pass


class RegisterTunableArgTypes(BaseError):
    pass


class RequiresTensorInAssignment(BaseError):
    pass


class ShapeSpecializingAllocation(BaseError):
    pass


class ShapeSpecializingCall(BaseError):
    pass


class SpecializeArgType(BaseError):
    pass


class StackTensorDevPtrDtype(BaseError):
    pass


class StackTensorDevPtrOnHost(BaseError):
    pass


class StackTensorExampleOnDevice(BaseError):
    pass


class StackTensorcOnHost(BaseError):
    pass


class StarredArgsNotSupportedOnDevice(BaseError):
    pass


class StatementNotSupported(BaseError):
    pass


class TensorOperationsInHostCall(BaseError):
    pass


class TileOfTile(BaseError):
    pass


class TracedArgNotSupported(BaseError):
    pass


class TritonUnrecoverableRuntimeError(BaseError):
    pass


class TunableNameConflict(BaseError):
    pass


class TunableTypeNotSupported(BaseError):
    pass


class TypeInferenceError(BaseError):
    pass


class UnsupportedPythonType(BaseError):
    pass


class UnsupportedSplitOperation(BaseError):
    pass


class WrongDevice(BaseError):
    pass


class BlockSizeIgnoredInInterpretMode(BaseWarning):
    pass


class NoAOTHeuristicWarning(BaseWarning):
    pass


class TiledKMatmulAccumulationWarning(BaseWarning):
    pass


def call_core(method: Callable[..., Any], *args: Any) -> Any:
    """Calls into the compiler core, turning its errors into ``helion.exc`` ones.

    ``from None``: the user sees the diagnostic, not the compiler's insides.
    """
    from . import _core

    try:
        return method(*args)
    except (_core.UserError, _core.InternalError) as error:
        raise _from_core(error) from None


def _from_core(error: Exception) -> Base:
    """The ``helion.exc`` error for an exception raised by the compiler core."""
    from . import _core

    if isinstance(error, _core.UserError):
        kind, message = error.args
        cls = globals().get(kind)
        concrete = isinstance(cls, type) and issubclass(cls, Base) and cls not in (Base, BaseError)
        if not concrete or issubclass(cls, Warning):
            cls = CompileError
        return cls(message)
    return InternalError(f"internal compiler error: {error}")


def not_provided_getattr(module: str, not_provided: Mapping[str, str]) -> Callable[[str], Any]:
    """A module's ``__getattr__`` for Helion's names it does not provide:
    each raises InvalidAPIUsage saying what to use instead."""

    def __getattr__(name: str) -> Any:  # noqa: N807 - a module's __getattr__
        if name in not_provided:
            raise InvalidAPIUsage(f"{module}.{name} is not supported here; {not_provided[name]}")
        raise AttributeError(f"module {module!r} has no attribute {name!r}")

    return __getattr__
