// The document view: the cleaned document with its metadata and numbered paragraphs,
// opened at the paragraph a citation names (#p7). The paragraphs arrive after the page
// has loaded, too late for the browser's :target, so the cited one is marked here, and
// again when the address's #p changes. The address's ?collection= says which collection's
// document it is (none: the default); one the server lacks is said, as a missing document.
"use strict";

(() => {
  const { el, getJSON, docview, withCollection } = QA;
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

  function showTarget(list) {
    const match = /^#p(\d+)$/.exec(location.hash);
    const target = match && docview.cite(list, Number(match[1]), null);
    if (target) {
      target.scrollIntoView({ block: "center" });
      target.focus({ preventScroll: true });
    }
  }

  function render(doc) {
    document.title = `${doc.title} — ${doc.source}`;
    const list = docview.paragraphs(doc, "p");
    root.replaceChildren(el("h1", { text: doc.title }), docview.metadata(doc), list);
    root.setAttribute("aria-busy", "false");
    showTarget(list);
    window.addEventListener("hashchange", () => showTarget(list));
  }

  QA.collections.relink();
  if (docId === null) {
    document.title = "Bad address";
    fail("Bad address: no such document. The link is malformed; open the document from " +
      "its citation in the conversation.");
  } else {
    getJSON(withCollection(`/api/documents/${docId.split("/").map(encodeURIComponent).join("/")}`))
      .then(render)
      .catch((error) => fail(error.message));
  }
})();
