"""Brief booklets: one page per account, printed in chunks by parallel workers.

A booklet is rendered by Jinja here and printed by WeasyPrint in worker processes, one
chunk of ``CHUNK`` accounts per WeasyPrint document, so memory stays flat whatever the
page count and both cores print; the chunks' PDFs are merged with pypdf.

The builder estimates how much a page holds (:meth:`BriefBuilder.page`); WeasyPrint has
the last word.  Each chunk's PDF is checked: an account whose page spilled over (the next
account's anchor is two pages on) is built again with its next fit, smaller or
squeezed, and the chunk printed again, so every account is one sheet.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import Executor, ProcessPoolExecutor
from contextlib import nullcontext
from multiprocessing import get_context
from pathlib import Path

from .errors import TierkitError
from .render import PDF_HINT, Renderer, write_pdf
from .render_brief import FITS, BriefBuilder

CHUNK = 25  # accounts per WeasyPrint document: a few MB of layout each
ANCHOR = "account-{}"  # the id of a page's <article> (brief_page.html): a named destination in the PDF


def write_briefs(builder: BriefBuilder, renderer: Renderer, rows: list[list], path: Path, cover=None) -> None:
    """The accounts' briefs as one HTML or PDF file, a page per account, after the
    ``cover`` of a rep's booklet when given."""
    if path.suffix.lower() != ".pdf":
        renderer.write("brief.html", builder.book(rows, cover=cover).variables(), path, accounts=len(rows))
        return
    try:
        import pypdf
    except ImportError:
        raise TierkitError("PDF booklets are merged with pypdf, which is not installed", hint=PDF_HINT) from None
    path.parent.mkdir(parents=True, exist_ok=True)
    chunks = [rows[start:start + CHUNK] for start in range(0, len(rows), CHUNK)] or [[]]
    with tempfile.TemporaryDirectory(prefix="tierkit-briefs-") as folder, _workers(len(chunks)) as pool:
        parts = [Path(folder) / f"part-{index:05d}.pdf" for index in range(len(chunks))]
        _print_chunks(builder, renderer, chunks, parts, path, pool, pypdf, cover)
        writer = pypdf.PdfWriter()
        for part in parts:
            writer.append(str(part))
        with path.open("wb") as out:
            writer.write(out)


def _workers(chunks: int):
    """Worker processes for a booklet of several chunks; none (printing here) for one."""
    count = min(chunks, os.cpu_count() or 1)
    if count < 2:
        return nullcontext(None)
    return ProcessPoolExecutor(count, mp_context=get_context("spawn"))


def _print_chunks(builder: BriefBuilder, renderer: Renderer, chunks: list[list[list]], parts: list[Path],
                  booklet: Path, pool: Executor | None, pypdf, cover) -> None:
    """Print every chunk (the first after the cover), again with the next fit for any
    account that spilled over; errors name the ``booklet``, not a chunk's file."""
    fits = [[0] * len(chunk) for chunk in chunks]
    todo = list(range(len(chunks)))
    while todo:
        books = {index: builder.book(chunks[index], fits[index], cover if index == 0 else None) for index in todo}
        htmls = {index: renderer.render("brief.html", book.variables(), accounts=len(chunks[index])) for index, book in books.items()}
        if pool is None:
            for index in todo:
                write_pdf(htmls[index], parts[index], renderer.dirs, booklet)
        else:
            list(pool.map(write_pdf, [htmls[index] for index in todo], [parts[index] for index in todo],
                          [renderer.dirs] * len(todo), [booklet] * len(todo)))
        again = []
        for index in todo:
            pages = books[index].pages
            spilled = _spilled(pypdf.PdfReader(str(parts[index])), [page.id for page in pages])
            fits[index] = [page.fit + 1 if page.id in spilled and page.fit + 1 < len(FITS) else fits[index][at]
                           for at, page in enumerate(pages)]
            if any(page.id in spilled and page.fit + 1 < len(FITS) for page in pages):
                again.append(index)
        todo = again


def _spilled(reader, ids: list[str]) -> set[str]:
    """The accounts whose page runs onto the next sheet: by where each page's anchor is."""
    destinations = reader.named_destinations
    starts = {customer: reader.get_destination_page_number(destinations[ANCHOR.format(customer)])
              for customer in ids if ANCHOR.format(customer) in destinations}
    ends = sorted(starts.values())[1:] + [len(reader.pages)]
    next_start = dict(zip(sorted(starts.values()), ends))
    return {customer for customer, start in starts.items() if next_start[start] - start > 1}
