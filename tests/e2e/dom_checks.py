# SPDX-License-Identifier: MIT
"""Checks on the DOM of mapleak's HTML report after Chromium ran it
(chromium --dump-dom), for the e2e tests. Parsed with html.parser."""
from html.parser import HTMLParser

from report_checks import check


class Dom(HTMLParser):
    """Collects the flame graph's frames, the body's attributes, the text
    of the header, every element's tag, and the scripts' count."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.frames = []        # [{"name", "bytes", "text"}]
        self.body = {}
        self.tags = []
        self.scripts = 0
        self.flame = {}         # the flame graph's attributes (data-zoom...)
        self._frame = None
        self._in_head = False
        self.head = ""

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags.append((tag, a))
        if tag == "body":
            self.body = a
        elif tag == "script":
            self.scripts += 1
        elif tag == "div" and "f" in (a.get("class") or "").split():
            cls = (a.get("class") or "").split()
            self._frame = {"name": a.get("data-name"), "bytes": int(a.get("data-bytes", "0")),
                           "text": "", "match": "match" in cls, "dim": "dim" in cls,
                           "style": a.get("style") or ""}
            self.frames.append(self._frame)
        elif a.get("id") == "flame":
            self.flame = a
        elif tag == "pre" and a.get("id") == "head":
            self._in_head = True

    def handle_endtag(self, tag):
        if tag == "div":
            self._frame = None
        elif tag == "pre":
            self._in_head = False

    def handle_data(self, data):
        if self._frame is not None:
            self._frame["text"] += data
        if self._in_head:
            self.head += data


def load_dom(path):
    d = Dom()
    with open(path, encoding="utf-8", errors="replace") as f:
        d.feed(f.read())
    return d


def check_page_ran(d, name):
    """The page's script ran to its end and no error reached window.onerror."""
    check(d.body.get("data-ready") == "1", name + ": the page's script ran to its end",
          'data-ready="1"', d.body.get("data-ready"))
    check("data-error" not in d.body, name + ": no uncaught error in the page",
          "none", d.body.get("data-error"))
