"""Hatch metadata hook: the long description on the package index is README.md with its
relative images replaced by their alt text.

The README's pictures (docs/*.png, made by ``make readme-images``) are relative paths:
they show on a clone or a repository page, but on the package index they would be broken
images, and the sdist does not ship them.  The index gets an italic line with each
picture's description instead; absolute image URLs (https://...) are kept as they are.
"""
from __future__ import annotations

import os
import re

from hatchling.metadata.plugin.interface import MetadataHookInterface

#: ![alt](target "title"): a target with no URL scheme and not starting with / is relative.
IMAGE = re.compile(r"!\[(?P<alt>[^\]]*)\]\((?P<target>(?![A-Za-z][A-Za-z0-9+.-]*:|/|#)[^)\s]+)"
                   r"(?:\s+\"[^\"]*\")?\)")


def long_description(readme: str) -> str:
    """The README with every relative image replaced by ``*(Picture: alt.)*``."""
    def alt_text(match) -> str:
        alt = " ".join(match.group("alt").split()).rstrip(".")
        return f"*(Picture: {alt}.)*" if alt else ""
    return IMAGE.sub(alt_text, readme)


class CustomMetadataHook(MetadataHookInterface):
    def update(self, metadata: dict) -> None:
        with open(os.path.join(self.root, "README.md"), encoding="utf-8") as f:
            text = f.read()
        metadata["readme"] = {"content-type": "text/markdown", "text": long_description(text)}
