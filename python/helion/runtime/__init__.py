from .kernel import BoundKernel, ConfigSpec, Kernel, kernel

__all__ = ["BoundKernel", "ConfigSpec", "Kernel", "kernel"]
