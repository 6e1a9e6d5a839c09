"""``mer`` command line: thin doors into the library, one module per stage of the data's way."""

from mer.cli import batch as _batch  # noqa: F401
from mer.cli import catalog as _catalog  # noqa: F401
from mer.cli import data as _data  # noqa: F401  (registers commands)
from mer.cli import features as _features  # noqa: F401
from mer.cli import model as _model  # noqa: F401
from mer.cli import monitor as _monitor  # noqa: F401
from mer.cli import serve as _serve  # noqa: F401
from mer.cli.app import app

__all__ = ["app"]
