"""dcmview: a fast, temporary DICOM viewer for research work, from a shell, a script or Jupyter.

For research inspection only, never for clinical diagnosis.
"""

from __future__ import annotations

__version__ = "0.1.0"

__all__ = ["__version__"]
