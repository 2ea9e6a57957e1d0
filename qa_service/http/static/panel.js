// A citation opened in place: the document beside the conversation, as a side panel at
// wide widths and a bottom sheet on a phone (the stylesheet chooses). A plain click on a
// citation link opens it here; a click with a modifier key or the middle button is left
// to the browser, which opens the link's full page in a new tab.
"use strict";

(() => {
  const { el, getJSON, docview, withCollection } = QA;
  const panel = document.getElementById("doc-panel");
  const heading = document.getElementById("doc-panel-title");
  const body = panel.querySelector(".doc-panel-body");
  const fields = panel.querySelector(".doc-panel-fields");
  const fullPage = panel.querySelector(".doc-panel-full");
  const closeButton = panel.querySelector(".doc-panel-close");

  const documents = new Map();  // collection and doc_id -> its request: fetched once a page
  let opener = null;            // the link that opened the panel, where focus returns
  let opening = 0;              // the latest open: an earlier one's late answer is dropped

  // The document `docId` of collection `collection` (null: the default).
  function fetchDocument(docId, collection) {
    const key = `${collection || ""}\n${docId}`;
    if (!documents.has(key)) {
      const path = docId.split("/").map(encodeURIComponent).join("/");
      const request = getJSON(withCollection(`/api/documents/${path}`, collection));
      request.catch(() => documents.delete(key));  // a failure is retried next time
      documents.set(key, request);
    }
    return documents.get(key);
  }

  // Opening or closing the side panel narrows or widens the conversation, which moves
  // everything in it: the link stays where the reader saw it, so the conversation is
  // where it was.
  function keepInPlace(element, change) {
    const before = element && element.isConnected ? element.getBoundingClientRect().top : null;
    change();
    if (before !== null && element.isConnected) {
      window.scrollBy({ top: element.getBoundingClientRect().top - before, behavior: "instant" });
    }
  }

  // The cited paragraph near the top of the panel, a little of what precedes it above.
  function scrollToCited(item) {
    const room = body.clientHeight;
    body.scrollTop = Math.max(0, item.offsetTop - body.offsetTop - Math.min(room / 5, 80));
  }

  async function open(link) {
    const { docId, paragraph, highlight, collection } = link.dataset;
    const mine = ++opening;
    opener = link;
    fullPage.setAttribute("href", link.getAttribute("href"));
    heading.textContent = "Loading the document…";
    fields.replaceChildren();
    body.setAttribute("aria-busy", "true");
    body.replaceChildren(el("p", { class: "status", text: "Loading the document…" }));
    keepInPlace(link, () => {
      panel.hidden = false;
      document.body.classList.add("panel-open");
    });
    heading.focus({ preventScroll: true });
    let doc;
    try {
      doc = await fetchDocument(docId, collection || null);
    } catch (error) {
      if (mine !== opening) return;
      heading.textContent = "The document could not be opened";
      body.replaceChildren(el("p", { class: "notice error", role: "alert", text: error.message }));
      body.setAttribute("aria-busy", "false");
      return;
    }
    if (mine !== opening || panel.hidden) return;
    heading.textContent = doc.title;
    // The metadata under the title, out of the text's scrolling: in view with the citation.
    fields.replaceChildren(docview.metadata(doc));
    const list = docview.paragraphs(doc, "panel-p");
    body.replaceChildren(list);
    body.setAttribute("aria-busy", "false");
    const cited = docview.cite(list, Number(paragraph), highlight || null);
    if (cited) {
      scrollToCited(cited);
      cited.focus({ preventScroll: true });
    }
  }

  function close() {
    if (panel.hidden) return;
    opening++;
    const link = opener;
    opener = null;
    keepInPlace(link, () => {
      panel.hidden = true;
      document.body.classList.remove("panel-open");
    });
    if (link && link.isConnected) link.focus({ preventScroll: true });
    else document.getElementById("question").focus({ preventScroll: true });
  }

  // Citation links carry their document, paragraph and sentence (data-doc-id, ...).
  document.addEventListener("click", (event) => {
    const link = event.target.closest && event.target.closest("a.cite");
    if (!link || event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey ||
        event.altKey) return;
    event.preventDefault();
    open(link);
  });
  closeButton.addEventListener("click", close);
  // Escape closes it from inside it, or from nowhere in particular (the page itself).
  document.addEventListener("keydown", (event) => {
    if (event.key !== "Escape" || panel.hidden || event.defaultPrevented) return;
    const at = document.activeElement;
    if (panel.contains(at) || at === document.body || at === null) {
      event.preventDefault();
      close();
    }
  });

  QA.panel = { open, close, get isOpen() { return !panel.hidden; } };
})();
