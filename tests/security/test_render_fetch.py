"""A page printed to PDF fetches nothing but files of its template folders: no other
file, no network, no attachment, whatever a ruleset's template asks for."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.render.test_render import AS_OF, write_small_case

pytestmark = [pytest.mark.pdf, pytest.mark.slow, pytest.mark.usefixtures("needs_weasyprint")]

PASSWD_LINE = "root:"


@pytest.fixture
def server():
    """A loopback HTTP server that records every request it gets."""
    hits: list[str] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_GET(self):  # noqa: N802 (the name http.server calls)
            hits.append(self.path)
            self.send_response(200)
            self.send_header("Content-Type", "text/css")
            self.end_headers()
            self.wfile.write(b"body { color: red }")

        def log_message(self, *args):
            pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", hits
    httpd.shutdown()
    httpd.server_close()


def print_brief(tierkit, tmp_path, body: str, output: str = "o.pdf"):
    """Print one brief whose page override (beside any file already in the ruleset's
    ``templates/``) adds ``body`` to the footer block."""
    ruleset, customers = write_small_case(tmp_path / "case")
    templates = tmp_path / "case" / "templates"
    templates.mkdir(exist_ok=True)
    (templates / "brief_page.html").write_text(
        '{% extends "default:brief_page.html" %}{% block footer %}' + body + "{{ super() }}{% endblock %}",
        encoding="utf-8",
    )
    out = tmp_path / output
    result = tierkit("brief", ruleset, customers, "--customer", "K01", "-o", out, "--as-of", AS_OF, "--lang", "en")
    return result, out


def assert_refused(result, out, message: str):
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and result.stderr.startswith("tierkit: PDF "), result.stderr
    assert message in result.stderr
    assert "internal error" not in result.stderr and PASSWD_LINE not in result.stderr + result.stdout
    assert not out.exists()


@pytest.mark.parametrize(
    "body",
    [
        '<link rel="attachment" href="file:///etc/passwd">',
        '<a rel="attachment" href="file:///etc/passwd">passwd</a>',
        '<link rel="attachment" href="brief_page.html">',  # inside a template folder: still no attachment
    ],
    ids=["link", "anchor", "own-template"],
)
def test_attachments_are_refused(tierkit, tmp_path, body):
    result, out = print_brief(tierkit, tmp_path, body)
    assert_refused(result, out, "tierkit prints no attachments")


@pytest.mark.parametrize(
    "body",
    [
        '<img src="{url}/image.png">',
        '<style>@import url("{url}/import.css");</style>',
        '<link rel="stylesheet" href="{url}/sheet.css">',
        '<div style="background: url({url}/background.png)">x</div>',
        '<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><image href="{url}/svg.png" width="10" height="10"/></svg>',
    ],
    ids=["img", "css-import", "stylesheet", "css-url", "svg-image"],
)
def test_nothing_is_fetched_from_the_network(tierkit, tmp_path, server, body):
    url, hits = server
    result, out = print_brief(tierkit, tmp_path, body.format(url=url))
    assert_refused(result, out, f"the page asks for {url}/")
    assert hits == []


@pytest.mark.parametrize(
    "body",
    ['<img src="file:///etc/passwd">', '<style>@import url("file:///etc/passwd");</style>', '<img src="../../../../../../etc/passwd">'],
    ids=["img", "css-import", "relative"],
)
def test_no_file_outside_the_template_folders_is_read(tierkit, tmp_path, body):
    result, out = print_brief(tierkit, tmp_path, body)
    assert_refused(result, out, "outside the template folders")


def test_a_symbolic_link_out_of_a_template_folder_is_refused(tierkit, tmp_path):
    (tmp_path / "case" / "templates").mkdir(parents=True)
    (tmp_path / "case" / "templates" / "logo.css").symlink_to("/etc/passwd")
    link = (tmp_path / "case" / "templates" / "logo.css").as_uri()
    result, out = print_brief(tierkit, tmp_path, f'<style>@import url("{link}");</style>')
    assert_refused(result, out, "outside the template folders")


def test_data_urls_and_files_of_the_ruleset_templates_still_print(tierkit, tmp_path):
    pypdf = pytest.importorskip("pypdf")
    (tmp_path / "case" / "templates").mkdir(parents=True)
    (tmp_path / "case" / "templates" / "extra.css").write_text("footer { color: #123456 }", encoding="utf-8")
    sheet = (tmp_path / "case" / "templates" / "extra.css").as_uri()
    pixel = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' width='4' height='4'/%3E"
    result, out = print_brief(tierkit, tmp_path, f'<style>@import url("{sheet}");</style><img src="{pixel}">')
    assert result.returncode == 0, result.stderr
    assert len(pypdf.PdfReader(str(out)).pages) == 1


def test_an_html_page_forbids_its_browser_to_fetch(tierkit, tmp_path, server):
    url, hits = server
    result, out = print_brief(tierkit, tmp_path, f'<img src="{url}/image.png">', output="o.html")
    assert result.returncode == 0, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert hits == []


def test_a_page_nesting_too_deeply_for_the_printer_is_one_line(tierkit, tmp_path):
    result, out = print_brief(tierkit, tmp_path, "{% for i in range(3000) %}<div>{% endfor %}deep")
    assert result.returncode == 2
    assert result.stderr == f"tierkit: PDF {out}: the page nests its elements too deeply to print\n"
    assert not out.exists()
