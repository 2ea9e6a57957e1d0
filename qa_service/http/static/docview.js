// One document as a reader sees it, in the document view and in the chat page's side
// panel alike: its metadata (source, date, author, tags, any other field) and its
// numbered paragraphs, each new page (PDF) marked; the cited paragraph is marked, and in
// it the answering sentence when the citation knows it. All of it set as text.
"use strict";

(() => {
  const { el, highlighted, safeUrl } = QA;

  // "date_basis" reads "Date basis".
  function label(name) {
    const words = name.replace(/[_-]+/g, " ").trim();
    return words.charAt(0).toUpperCase() + words.slice(1);
  }

  // A metadata value as text: a list's items joined, anything else as JSON would write it.
  function valueText(value) {
    if (Array.isArray(value)) return value.map(valueText).join(", ");
    if (value !== null && typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  // Source and date first, then every other field the document's file gave, then its
  // address when it is a web address (a javascript: one is no link).
  function metadata(doc) {
    const rows = [["Source", doc.source], ["Date", doc.date || "undated"],
                  ["Passages", String(doc.paragraphs ? doc.paragraphs.length : doc.paragraph_count)]];
    for (const [name, value] of Object.entries(doc.metadata || {})) {
      if (value === null || value === "" || (Array.isArray(value) && !value.length)) continue;
      rows.push([label(name), valueText(value)]);
    }
    const list = el("dl", { class: "doc-fields" }, rows.map(([name, value]) =>
      el("div", {}, el("dt", { text: name }), el("dd", { text: value }))));
    const url = doc.url && safeUrl(doc.url);
    if (url) {
      list.append(el("div", {}, el("dt", { text: "Original" }),
        el("dd", {}, el("a", { href: url, rel: "noopener noreferrer", text: url }))));
    }
    return list;
  }

  // The paragraphs, numbered as the citations number them; where a new page starts, its
  // number. `prefix` makes the ids ("p7" on the document view, where #p7 links to it).
  function paragraphs(doc, prefix) {
    let page = null;
    return el("ol", { class: "paragraphs" }, doc.paragraphs.map((p) => {
      const newPage = p.page != null && p.page !== page;
      if (p.page != null) page = p.page;
      return el("li", { id: `${prefix}${p.paragraph}`, value: p.paragraph, tabindex: "-1",
                        "data-paragraph": p.paragraph, "data-page": p.page },
        newPage ? el("p", { class: "page-mark", text: `Page ${p.page}` }) : null,
        el("p", { class: "paragraph-text", text: p.text }));
    }));
  }

  // Mark one paragraph as the cited one (and no other): a label that says so, with its
  // page, and the answering sentence marked. Returns the paragraph, or null when the
  // document has no such paragraph.
  function cite(list, paragraph, highlight) {
    for (const old of list.querySelectorAll("li.cited")) {
      old.classList.remove("cited");
      old.removeAttribute("aria-current");
      old.querySelector(".cited-label").remove();
      const text = old.querySelector(".paragraph-text");
      text.replaceChildren(text.textContent);
    }
    const item = list.querySelector(`li[data-paragraph="${Number(paragraph)}"]`);
    if (!item) return null;
    item.classList.add("cited");
    item.setAttribute("aria-current", "true");
    const page = item.dataset.page ? ` · page ${item.dataset.page}` : "";
    item.prepend(el("p", { class: "cited-label", text: `Cited: paragraph ${paragraph}${page}` }));
    const text = item.querySelector(".paragraph-text");
    text.replaceChildren(...highlighted(text.textContent, highlight));
    return item;
  }

  QA.docview = { metadata, paragraphs, cite };
})();
