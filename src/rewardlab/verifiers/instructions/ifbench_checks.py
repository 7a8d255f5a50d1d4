"""IFBench (Pyatkin et al., 2025) out-of-distribution constraints."""

from __future__ import annotations
