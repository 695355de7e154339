"""Brief booklets: one page per account, printed in chunks by parallel workers.

A booklet is rendered by Jinja here and printed by WeasyPrint in worker processes, one
chunk of ``CHUNK`` accounts per WeasyPrint document, so memory stays flat whatever the
page count and both cores print.  Each chunk goes to the workers as soon as it is
rendered, and the chunks' PDFs are merged with pypdf in order as they come back, while
the workers print the next ones; the last chunks are smaller, so the workers finish
together.

The builder estimates how much a page holds (:meth:`BriefBuilder.page`); WeasyPrint has
the last word.  A worker returns the anchors on each page it printed: an account whose
page spilled over (the next account's anchor is two pages on) is built again with its
next fit, smaller or squeezed, and the chunk printed again, so every account is one sheet.
"""

from __future__ import annotations

import os
import tempfile
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from contextlib import nullcontext
from multiprocessing import get_context
from pathlib import Path

from tierkit.errors import TierkitError
from tierkit.render.environment import PDF_HINT, Renderer, write_pdf
from tierkit.render.brief import FITS, BriefBuilder

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
    workers = min(-(-len(rows) // CHUNK), os.cpu_count() or 1)
    chunks = _chunks(rows, workers)
    with tempfile.TemporaryDirectory(prefix="tierkit-briefs-") as folder, _workers(workers) as pool:
        parts = [Path(folder) / f"part-{index:05d}.pdf" for index in range(len(chunks))]
        writer = pypdf.PdfWriter()
        for part in _print_chunks(builder, renderer, chunks, parts, path, pool, cover):
            writer.append(str(part))
        with path.open("wb") as out:
            writer.write(out)


def _chunks(rows: list[list], workers: int) -> list[list[list]]:
    """The rows in chunks of ``CHUNK``, the last ``workers`` chunks' worth (and what is
    left over) in half chunks: a worker out of work waits for the others less."""
    if workers < 2 or len(rows) <= CHUNK:
        return [rows[start:start + CHUNK] for start in range(0, len(rows), CHUNK)] or [[]]
    head, size = max(0, len(rows) - workers * CHUNK) // CHUNK * CHUNK, -(-CHUNK // 2)
    return ([rows[start:start + CHUNK] for start in range(0, head, CHUNK)]
            + [rows[start:start + size] for start in range(head, len(rows), size)])


def _workers(count: int):
    """``count`` worker processes; none (printing here) for one."""
    if count < 2:
        return nullcontext(None)
    return ProcessPoolExecutor(count, mp_context=get_context("spawn"))


def _print_chunks(builder: BriefBuilder, renderer: Renderer, chunks: list[list[list]], parts: list[Path],
                  booklet: Path, pool: Executor | None, cover):
    """Print every chunk (the first after the cover) and yield its part once every
    account in it is one sheet, in order; a chunk with an account that spilled over is
    printed again with that account's next fit.  Errors name the ``booklet``, not a
    chunk's file."""
    fits = [[0] * len(chunk) for chunk in chunks]

    def submit(index: int):
        book = builder.book(chunks[index], fits[index], cover if index == 0 else None)
        html = renderer.render("brief.html", book.variables(), accounts=len(chunks[index]))
        return book.pages, _submit(pool, html, parts[index], renderer.dirs, booklet)

    printing = [submit(index) for index in range(len(chunks))]
    try:
        for index in range(len(chunks)):
            while True:
                pages, future = printing[index]
                spilled = _spilled(future.result(), [page.id for page in pages])
                refit = [page.id in spilled and page.fit + 1 < len(FITS) for page in pages]
                if not any(refit):
                    break
                fits[index] = [page.fit + 1 if again else page.fit for page, again in zip(pages, refit)]
                printing[index] = submit(index)
            yield parts[index]
    finally:
        for _, future in printing:
            future.cancel()


def _submit(pool: Executor | None, *arguments) -> Future:
    """``write_pdf(*arguments)`` in a worker, or here without workers."""
    if pool is not None:
        return pool.submit(write_pdf, *arguments)
    future: Future = Future()
    future.set_result(write_pdf(*arguments))
    return future


def _spilled(anchors: list[list[str]], ids: list[str]) -> set[str]:
    """The accounts whose page runs onto the next sheet, from the anchors on each printed
    page: the next account starts two or more pages after it."""
    names = {ANCHOR.format(customer): customer for customer in ids}
    starts = {}
    for number, page in enumerate(anchors):
        for anchor in page:
            if anchor in names:
                starts.setdefault(names[anchor], number)
    ends = sorted(starts.values())[1:] + [len(anchors)]
    next_start = dict(zip(sorted(starts.values()), ends))
    return {customer for customer, start in starts.items() if next_start[start] - start > 1}
