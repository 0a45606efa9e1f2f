"""Errors the engine raises for bad input; each message names the file and what is wrong."""


class KenningError(Exception):
    """Base for errors shown to the user as one clear line."""


class ModelError(KenningError):
    """A model file or model folder cannot be used."""


class IndexError_(KenningError):
    """The index cannot be opened or is used in a way it does not allow."""


class QueryError(KenningError):
    """A query that cannot be searched (empty, only punctuation)."""


class IndexDamaged(IndexError_):
    """The index database is damaged; the service or `kenning index` moves it aside and rebuilds it."""


class DiskFull(KenningError):
    """No room left for the index; nothing half-written is kept, and work resumes once there is."""
