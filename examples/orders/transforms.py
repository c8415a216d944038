"""Where this example lives, for project.yaml; Odibi imports this file before reading it.

Odibi resolves relative paths in a project against the working directory,
not the project's folder. Odibi imports ``transforms.py`` from the project's
folder before it reads the YAML, so this file sets ``ORDERS_EXAMPLE_HOME``,
which project.yaml uses as ``${ORDERS_EXAMPLE_HOME}``: the project then runs
from any directory, and everything it writes lands in ``out/`` beside it.
"""

import os
from pathlib import Path

os.environ["ORDERS_EXAMPLE_HOME"] = str(Path(__file__).resolve().parent)
