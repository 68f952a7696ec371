"""The version of the helion package (read by the build, pyproject.toml)."""

__version__ = "0.1.0"
