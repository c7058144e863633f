"""The structured pass: scrub every string inside a log event, at any depth.

An event dict holds more than strings: keys, nested dicts, lists, tuples and sets, bytes,
numbers, and objects that only become text when a renderer calls `repr()` on them. Each of
those is turned into the text a renderer would show, and that text is scrubbed, keys included
(a secret used as a dict key is still a secret).

The common case is a record with nothing to hide, and it must stay cheap: all the texts of one
record are joined with a separator and scanned once. Only when that scan finds something is
the structure rebuilt, with the scrubbed texts in place of the originals; objects that held a
secret are replaced by their scrubbed `repr`. Cycles are cut (a renderer would choke on them
too); the input is never mutated, so code that still holds the objects sees them unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from hub.logging.matcher import SEPARATOR
from hub.logging.scrubber import Scrubber

CYCLE = "[cycle]"

_CONTAINERS = (Mapping, list, tuple, set, frozenset)
_SCALARS = (bool, type(None))


def scrub_structure(scrubber: Scrubber, event: dict[str, Any], *,
                    always: bool = False) -> dict[str, Any]:
    """`event` itself if it holds nothing registered, else a scrubbed copy.

    `always` skips the check and copies (the caller already knows there is something).
    """
    texts: list[str] = []
    if (not always and _collect(event, texts, set())
            and not scrubber.find(SEPARATOR.join(texts))):
        return event
    result = _rebuild(scrubber, event, set())
    return result if isinstance(result, dict) else {"event": result}


def _collect(obj: Any, texts: list[str], active: set[int]) -> bool:
    """Append the text of every leaf and key below `obj`; False if a cycle was seen."""
    if type(obj) is str:
        texts.append(obj)
        return True
    if isinstance(obj, _CONTAINERS):
        if id(obj) in active:
            return False
        active.add(id(obj))
        # Strings, the usual keys and values, are taken inline: this runs for every record.
        if isinstance(obj, Mapping):
            for key, value in obj.items():
                if type(key) is str:
                    texts.append(key)
                elif not _collect(key, texts, active):
                    return False
                if type(value) is str:
                    texts.append(value)
                elif not _collect(value, texts, active):
                    return False
        else:
            for item in obj:
                if type(item) is str:
                    texts.append(item)
                elif not _collect(item, texts, active):
                    return False
        active.discard(id(obj))
        return True
    kind = type(obj)
    if kind is int or kind is float:
        texts.append(repr(obj))
    elif isinstance(obj, str):
        texts.append(obj)
    elif not isinstance(obj, _SCALARS):
        texts.extend(_renderings(obj))
    return True


def _rebuild(scrubber: Scrubber, obj: Any, active: set[int]) -> Any:
    if isinstance(obj, str):
        return scrubber.scrub(obj)
    if isinstance(obj, _SCALARS):
        return obj
    if isinstance(obj, _CONTAINERS):
        if id(obj) in active:
            return CYCLE
        active.add(id(obj))
        try:
            if isinstance(obj, Mapping):
                return _rebuild_mapping(scrubber, obj, active)
            items = [_rebuild(scrubber, item, active) for item in obj]
        finally:
            active.discard(id(obj))
        if isinstance(obj, list):
            return items
        if isinstance(obj, tuple):
            return tuple(items)
        # A scrubbed member may have become a string that is not hashable-equal: keep a list.
        try:
            return type(obj)(items) if type(obj) in (set, frozenset) else items
        except TypeError:
            return items
    return _rebuild_object(scrubber, obj)


def _rebuild_mapping(scrubber: Scrubber, obj: Mapping[Any, Any],
                     active: set[int]) -> dict[Any, Any]:
    result: dict[Any, Any] = {}
    for key, value in obj.items():
        new_key = _rebuild(scrubber, key, active)
        if new_key in result:
            # Two keys scrubbed to the same mask: keep both values, under distinct keys.
            new_key = f"{new_key}#{len(result)}"
        result[new_key] = _rebuild(scrubber, value, active)
    return result


def _rebuild_object(scrubber: Scrubber, obj: Any) -> Any:
    """The object itself if none of its renderings holds a secret, else its scrubbed repr."""
    renderings = _renderings(obj)
    scrubbed = [scrubber.scrub(text) for text in renderings]
    if scrubbed == renderings:
        return obj
    return scrubbed[0]


def _renderings(obj: Any) -> list[str]:
    """The texts a renderer may show for `obj`: its repr, and its str when it differs."""
    if isinstance(obj, bytes | bytearray):
        return [repr(bytes(obj))]
    shown = repr(obj)
    text = str(obj)
    return [shown] if text == shown else [shown, text]
