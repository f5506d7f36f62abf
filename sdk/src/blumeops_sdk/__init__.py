"""Dagger SDK runtime module for Rust modules built on the blumeops runtime.

The engine calls ``moduleRuntime`` to get the container that runs the module's
Rust binary, and ``codegen`` on ``dagger develop``; see ``main.py``.
"""

from .main import BlumeopsSdk as BlumeopsSdk
