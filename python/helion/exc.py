"""Errors and warnings raised by Helion.

Every error derives from :class:`Base`. Errors found by the compiler carry a
message that names the kernel and shows the offending source line with a
caret under it; the class tells what kind of mistake it is.
"""

from __future__ import annotations


class Base(RuntimeError):
    """Root of every Helion error and warning."""


class CompileError(Base):
    """A compiler error of a kind this package has no dedicated class for."""


class InternalError(Base):
    """A bug in Helion itself, never the user's fault: please report it."""


# --- used outside a kernel -------------------------------------------------


class NotInsideKernel(Base):
    """An ``hl`` function was called outside a ``@helion.kernel`` device loop."""


class UnsupportedSignature(Base, TypeError):
    """The kernel's signature uses ``*args``, ``**kwargs`` or keyword-only parameters."""


class TritonInterpreterRequired(Base):
    """CPU tensors were passed while Triton's interpreter is off."""


class InvalidArgument(Base, TypeError):
    """A kernel argument the kernel cannot take: a non-tensor where the kernel uses a tensor,
    a tensor on the meta device, text that is not valid Unicode; names the argument."""


# --- kernel structure ------------------------------------------------------


class NoTensorArgs(Base):
    pass


class NoDeviceLoopsInKernel(Base):
    pass


class InvalidDeviceForLoop(Base):
    pass


class NotAllowedOnDevice(Base):
    pass


class NestedGridLoop(Base):
    pass


class TopLevelStatementBetweenLoops(Base):
    pass


class HostTensorDirectUsage(Base):
    pass


class CannotModifyHostVariableOnDevice(Base):
    pass


class CannotReadDeviceVariableOnHost(Base):
    pass


class SpecializeOnDevice(Base):
    pass


class UnsupportedSyntax(Base):
    """Python syntax outside the subset Helion compiles."""


class UnsupportedOp(Base):
    """A torch op or function the compiler cannot lower; the message says what is supported."""


# --- types, shapes and indexing --------------------------------------------


class RankMismatch(Base):
    pass


class ShapeMismatch(Base):
    pass


class DeviceMismatch(Base):
    """Tensors a kernel uses live on different devices."""


class InvalidIndexingType(Base):
    pass


class IncorrectTileUsage(Base):
    pass


class IndexOffsetOutOfRangeForInt32(Base):
    pass


# --- configs, autotuning and Triton ----------------------------------------


class UndefinedVariable(Base):
    """A name used in the kernel is defined nowhere the kernel can see."""


class TorchOpTracingError(Base, TypeError):
    """A torch op in the kernel is called with arguments torch does not take."""


class InvalidConfig(Base, ValueError):
    """A config that does not fit the kernel: names the field, the value and what is allowed."""


class NoConfigFound(Base):
    """Every candidate config failed."""


class AutotuningDeviceError(Base):
    """A candidate kernel left the GPU unusable for this process (a CUDA error
    such as an illegal memory access); the search stops and names the config."""


class TritonError(Base):
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


def _from_core(error: Exception) -> Base:
    """The ``helion.exc`` error for an exception raised by the compiler core."""
    from . import _core

    if isinstance(error, _core.UserError):
        kind, message = error.args
        cls = globals().get(kind)
        concrete = isinstance(cls, type) and issubclass(cls, Base) and cls is not Base
        if not concrete or issubclass(cls, Warning):
            cls = CompileError
        return cls(message)
    return InternalError(f"internal compiler error: {error}")
