"""Errors the engine raises for bad input; each message names the file and what is wrong."""


class KenningError(Exception):
    """Base for errors shown to the user as one clear line."""


class ModelError(KenningError):
    """A model file or model folder cannot be used."""


class IndexError_(KenningError):
    """The index cannot be opened or is used in a way it does not allow."""


class QueryError(KenningError):
    """A query that cannot be searched (empty, only punctuation)."""
