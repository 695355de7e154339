"""Print a rendered page to PDF fetching nothing but files of the template folders.

Templates come with rulesets, so a page is untrusted.  WeasyPrint's own fetcher reads
any ``file:`` URL, connects to any ``http(s):`` one and embeds the targets of
``<link rel="attachment">`` and ``<a rel="attachment">`` in the PDF: one template
line could copy ``/etc/passwd`` into a brief or probe the local network.  Here a page
may use ``data:`` URLs and files inside the folders its templates are loaded from
(symbolic links and ``..`` resolved first); every other URL is refused before it is
opened, and a page asking for one, or for an attachment, is not printed: the error
names the first such URL.  Imported only once WeasyPrint is known to be installed.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from urllib.parse import urlsplit
from urllib.request import url2pathname

from weasyprint import HTML
from weasyprint.urls import URLFetcher

from tierkit.errors import TierkitError


class FolderFetcher(URLFetcher):
    """WeasyPrint's fetcher, limited to ``data:`` and files under ``folders``; what it
    refused is kept in ``refused``, since WeasyPrint only logs a failed fetch."""

    def __init__(self, folders: Iterable[Path]):
        super().__init__(allowed_protocols=("file", "data"), allow_redirects=False)
        self.folders = [Path(folder).resolve() for folder in folders]
        self.refused: list[str] = []

    def fetch(self, url, headers=None):
        if self.allows(url):
            return super().fetch(url, headers)
        self.refused.append(url)
        raise ValueError(f"tierkit fetches nothing outside its template folders: {url}")

    def allows(self, url: str) -> bool:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        if scheme == "data":
            return True
        if scheme != "file" or parts.netloc not in ("", "localhost"):
            return False
        path = Path(url2pathname(parts.path)).resolve()
        return any(path.is_relative_to(folder) for folder in self.folders)


def print_pdf(html: str, path: Path, folders: Iterable[Path], base_url: Path, shown: Path | None = None) -> list[list[str]]:
    """Print ``html`` to ``path``; relative URLs resolve against ``base_url``.  Errors
    name ``shown``, else ``path``: a booklet prints its chunks to temporary files, and
    its errors name the booklet.  Returns the anchors (``id`` attributes) on each page,
    so a booklet sees where each account landed without reading the PDF again."""
    shown = path if shown is None else shown
    fetcher = FolderFetcher(folders)
    try:
        document = HTML(string=html, base_url=str(base_url), url_fetcher=fetcher).render()
        _refuse(fetcher, shown)
        links = [kind for page in document.pages for kind, *_ in page.links]
        if document.metadata.attachments or "attachment" in links:
            raise TierkitError(f"PDF {shown}: the page asks to attach a file; tierkit prints no attachments")
        pdf = document.write_pdf()  # images inside an SVG are fetched only now
    except RecursionError:  # WeasyPrint lays out nested elements recursively
        raise TierkitError(f"PDF {shown}: the page nests its elements too deeply to print") from None
    _refuse(fetcher, shown)
    Path(path).write_bytes(pdf)
    return [list(page.anchors) for page in document.pages]


def _refuse(fetcher: FolderFetcher, path: Path) -> None:
    if fetcher.refused:
        raise TierkitError(
            f"PDF {path}: the page asks for {fetcher.refused[0]}, outside the template folders; "
            "tierkit fetches nothing else (no other files, no network)"
        )
