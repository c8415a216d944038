"""Where this example lives, for project.yaml; Odibi imports this file before reading it.

Odibi resolves a project's relative paths against the working directory, not
the project's folder, and imports ``transforms.py`` from the project's folder
before it reads the YAML. So this file sets ``SPARK_ORDERS_HOME``, which
project.yaml uses as ``${SPARK_ORDERS_HOME}``: the project runs from any
directory, and everything it writes lands in ``out/`` beside it.
"""

import os
from pathlib import Path

os.environ["SPARK_ORDERS_HOME"] = str(Path(__file__).resolve().parent)
