"""harbor-api: an enterprise container registry compatible with Harbor's API v2.0."""

__version__ = "0.1.0"
