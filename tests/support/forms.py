"""What a browser would send for a form of a server-rendered page: its fields with the values shown."""
from __future__ import annotations

from html.parser import HTMLParser


class _FormReader(HTMLParser):
    def __init__(self, form_class: str) -> None:
        super().__init__(convert_charrefs=True)
        self.form_class, self.inside, self.fields = form_class, False, {}
        self._select: str | None = None
        self._first_option: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form":
            self.inside = self.form_class in a.get("class", "").split()
        if not self.inside:
            return
        if tag == "input" and "name" in a and a.get("type") != "file":
            if a.get("type") != "checkbox" or "checked" in a:
                self.fields[a["name"]] = a.get("value", "")
        elif tag == "select":
            self._select, self._first_option = a.get("name"), None
        elif tag == "option" and self._select:
            value = a.get("value")
            if self._first_option is None:
                self._first_option = value
            if "selected" in a:
                self.fields[self._select] = value

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "select" and self._select:
            self.fields.setdefault(self._select, self._first_option or "")
            self._select = None


def form_fields(page: str, form_class: str) -> dict[str, str]:
    """The named fields of the form with `form_class` on `page`, as submitting it unchanged would send them
    (the pages' options all carry a value attribute)."""
    reader = _FormReader(form_class)
    reader.feed(page)
    return {k: v or "" for k, v in reader.fields.items()}
