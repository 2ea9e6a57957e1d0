// The document view: the cleaned document with numbered paragraphs, opened at the
// paragraph a citation names (#p7).
"use strict";

(() => {
  const { el, safeUrl, getJSON } = QA;
  const root = document.getElementById("document");
  // null: the address is no document id (a malformed escape such as "%E0%A4%A").
  const docId = (() => {
    try {
      return location.pathname.replace(/^\/documents\//, "")
        .split("/").map(decodeURIComponent).join("/");
    } catch {
      return null;
    }
  })();

  function fail(message) {
    root.setAttribute("aria-busy", "false");
    root.replaceChildren(el("p", { class: "notice error", role: "alert", text: message }));
  }

  function render(doc) {
    document.title = `${doc.title} — ${doc.source}`;
    const url = doc.url && safeUrl(doc.url);
    const meta = [doc.source, doc.date || "undated", `${doc.paragraphs.length} paragraphs`];
    root.replaceChildren(
      el("h1", { text: doc.title }),
      el("p", { class: "doc-meta" }, meta.join(" · "),
        url ? [" · ", el("a", { href: url, rel: "noopener noreferrer", text: "original" })] : []),
      el("ol", { class: "paragraphs" }, doc.paragraphs.map((p) =>
        el("li", { id: `p${p.paragraph}`, value: p.paragraph, tabindex: "-1" },
          el("p", { text: p.text })))));
    root.setAttribute("aria-busy", "false");
    const target = location.hash && document.getElementById(location.hash.slice(1));
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.focus();
    }
  }

  if (docId === null) {
    document.title = "Bad address";
    fail("Bad address: no such document. The link is malformed; open the document from " +
      "its citation in the conversation.");
  } else {
    getJSON(`/api/documents/${docId.split("/").map(encodeURIComponent).join("/")}`)
      .then(render)
      .catch((error) => fail(error.message));
  }
})();
