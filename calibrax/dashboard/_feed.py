"""The Atom feed of the regressions page: one entry per changepoint that made a case worse."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from typing import Any
from xml.etree import ElementTree as ET

__all__ = ["atom"]

_NS = "http://www.w3.org/2005/Atom"
_ENTRIES = 200  # newest regressions in the feed


def atom(regressions: Sequence[Mapping[str, Any]], title: str, updated: str) -> str:
    """The Atom 1.0 document of the newest regressions (RFC 4287), newest first.

    Example:
        >>> '<feed xmlns="http://www.w3.org/2005/Atom">' in atom([], "calibrax", "2026-12-01T00:00:00+00:00")
        True
    """
    ET.register_namespace("", _NS)
    feed = ET.Element(f"{{{_NS}}}feed")
    ET.SubElement(feed, f"{{{_NS}}}title").text = f"{title}: regressions"
    ET.SubElement(feed, f"{{{_NS}}}id").text = "urn:calibrax:regressions:" + _hash(title)
    ET.SubElement(feed, f"{{{_NS}}}updated").text = updated
    ET.SubElement(feed, f"{{{_NS}}}link", href="regressions.html")
    author = ET.SubElement(feed, f"{{{_NS}}}author")
    ET.SubElement(author, f"{{{_NS}}}name").text = "calibrax"
    for r in regressions[:_ENTRIES]:
        entry = ET.SubElement(feed, f"{{{_NS}}}entry")
        what = f"{r['b']} {r['p']}"
        ET.SubElement(entry, f"{{{_NS}}}title").text = f"{what}: {float(r['rel']):+.1%} at run {r['run']}"
        ET.SubElement(entry, f"{{{_NS}}}id").text = "urn:calibrax:changepoint:" + _hash(f"{what}|{r['hw']}|{r['run']}")
        ET.SubElement(entry, f"{{{_NS}}}updated").text = _timestamp(str(r["at"]))
        ET.SubElement(entry, f"{{{_NS}}}link", href=f"b/{r['s']}.html")
        ET.SubElement(entry, f"{{{_NS}}}summary").text = (
            f"{what} on {r['hw'] or 'unknown hardware'} moved from {r['before']} to {r['after']} {r['unit']} "
            f"(p={r['pv']}) at commit {r['commit'] or 'unknown'}.")
    return '<?xml version="1.0" encoding="utf-8"?>\n' + ET.tostring(feed, encoding="unicode") + "\n"


def _hash(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=10).hexdigest()


def _timestamp(at: str) -> str:
    """An RFC 3339 time: stored times are ISO 8601 with an offset; one without gets UTC."""
    return at if ("+" in at[10:] or at.endswith("Z")) else at + "Z"
