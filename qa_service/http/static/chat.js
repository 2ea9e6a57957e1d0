// The chat page: questions go to /api/ask with the conversation's earlier questions as
// history (and the filters set, filters.js); each answer is a list of attributed passage
// cards (answer.js). The conversation is kept in the browser (store.js): a reload finds
// it, "New conversation" can be undone, and a share link opens a question anew. On a
// server with several collections a selector chooses the one asked (QA.collections):
// each collection has its own conversation, and every request names the collection.
"use strict";

(() => {
  const { el, resetSources, getJSON, KeyNeeded, store, filters, renderAnswer, withCollection,
          collections } = QA;

  const form = document.getElementById("ask-form");
  const input = document.getElementById("question");
  const send = document.getElementById("send");
  const status = document.getElementById("status");
  const thread = document.getElementById("thread");
  const intro = document.getElementById("intro");
  const newConversation = document.getElementById("new-conversation");
  const header = document.getElementById("top");
  const examples = document.getElementById("examples");
  const keyHint = document.getElementById("key-hint");
  const undo = document.getElementById("undo");
  const choice = document.getElementById("collection-choice");
  const select = document.getElementById("collection");
  const collectionNote = document.getElementById("collection-note");

  // The answered turns, oldest first: {question, history, filters, collection, answer}.
  let turns = [];
  let busy = false;

  function setBusy(value) {
    busy = value;
    input.disabled = value;
    send.disabled = value;
    select.disabled = value;  // a question in flight belongs to the collection it asked
    form.setAttribute("aria-busy", String(value));
  }

  // The sticky header and the fixed composer cover the top and bottom of the window:
  // their heights become the page's scroll padding, so what is scrolled into view (a new
  // turn, a focused link) lands between them, and the room left under the last answer.
  function measureChrome() {
    const root = document.documentElement.style;
    root.setProperty("--top-height", `${header.offsetHeight}px`);
    root.setProperty("--composer-height", `${form.offsetHeight}px`);
  }
  new ResizeObserver(measureChrome).observe(form);
  new ResizeObserver(measureChrome).observe(header);

  // A turn's top just below the header ("start"), or its end just above the composer.
  function reveal(turn, block) {
    measureChrome();  // the status line may have grown the composer since the last paint
    turn.scrollIntoView({ block, behavior: "instant" });
  }

  // The question heads its turn (an h2 over the cards' h3), for reading by headings.
  function turnElement(question, answerBox) {
    return el("article", { class: "turn" },
      el("div", { class: "question" },
        el("h2", {}, el("span", { class: "visually-hidden", text: "You asked: " }),
          el("span", { class: "asked", text: question }))),
      answerBox);
  }

  // The questions the next one follows on from: the last turn's, and the last turn.
  function nextHistory() {
    const last = turns[turns.length - 1];
    return last ? [...last.history, last.question].slice(-store.MAX_HISTORY) : [];
  }

  // `note`: said after the answer's status line (what else happened meanwhile).
  async function ask(question, { history = nextHistory(), keepUndo = false, note = "" } = {}) {
    if (!keepUndo) hideUndo();
    intro.hidden = true;
    const chosen = filters.current();
    const collection = collections.current();
    const answerBox = el("div", { class: "answer pending" },
      el("span", { class: "spinner", "aria-hidden": "true" }), "Searching the documents…");
    const turn = turnElement(question, answerBox);
    thread.append(turn);
    reveal(turn, "end");
    setBusy(true);
    status.textContent = "Searching…";
    try {
      const answer = await getJSON("/api/ask", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify({ question, history, ...(chosen ? { filters: chosen } : {}),
                               ...(collection ? { collection } : {}) }),
      });
      const asked = { question, history, filters: chosen, collection, answer };
      answerBox.classList.remove("pending");
      status.textContent = renderAnswer(answerBox, asked) + (note ? ` ${note}` : "");
      turns.push(asked);
      store.save(turns);
      input.value = "";
      if (!keyHint.hidden) loadExamples(false);  // the reader has given a key meanwhile
    } catch (error) {
      answerBox.classList.remove("pending");
      answerBox.classList.add("error");
      answerBox.replaceChildren(el("p", { role: "alert", text: `Error: ${error.message}` }));
      status.textContent = `Error: ${error.message}`;
    } finally {
      setBusy(false);
      reveal(turn, "start");
      input.focus({ preventScroll: true });
    }
  }

  // Draw stored turns again (a reload, an undo). A turn that cannot be drawn is dropped.
  function restore(saved) {
    resetSources();
    thread.replaceChildren();
    turns = [];
    for (const t of saved) {
      try {
        const box = el("div", { class: "answer" });
        const turn = turnElement(t.question, box);
        renderAnswer(box, t);
        thread.append(turn);
        turns.push(t);
      } catch {
        // the stored value was not what this page writes: left out
      }
    }
    intro.hidden = turns.length > 0;
    const last = thread.lastElementChild;
    if (last) reveal(last, "start");
  }

  // An undo for a few seconds after the conversation is set aside; a new question, or
  // the time running out, lets it go.
  const UNDO_MS = 10_000;
  let undoTimer = 0;
  let undoAction = null;
  function offerUndo(message, action) {
    undoAction = action;
    status.textContent = `${message} Undo is offered for ${UNDO_MS / 1000} seconds.`;
    undo.hidden = false;
    clearTimeout(undoTimer);
    undoTimer = setTimeout(hideUndo, UNDO_MS);
  }
  function hideUndo() {
    clearTimeout(undoTimer);
    undoAction = null;
    if (!undo.hidden && document.activeElement === undo) input.focus();
    undo.hidden = true;
  }
  undo.addEventListener("click", () => {
    const action = undoAction;
    hideUndo();
    if (action) action();
    input.focus({ preventScroll: true });
  });

  // Set the conversation aside (kept for the undo) and start an empty one; say whether
  // there was one.
  function setAside(message) {
    const kept = turns;
    turns = [];
    store.save(turns);
    thread.replaceChildren();
    resetSources();
    intro.hidden = false;
    if (kept.length) {
      offerUndo(message, () => {
        restore(kept);
        store.save(turns);
        status.textContent = "The conversation is back.";
      });
    }
    return kept.length > 0;
  }

  form.addEventListener("submit", (event) => {
    event.preventDefault();
    if (busy) return;
    const question = input.value.trim();
    if (!question) {
      status.textContent = "Type a question first.";
      input.focus();
      return;
    }
    ask(question);
  });

  newConversation.addEventListener("click", () => {
    QA.panel.close();
    input.value = "";
    status.textContent = "New conversation started.";
    setAside("Conversation cleared.");
    input.focus();
  });

  // Topics to try, drawn from what is indexed: up to three document titles, one a source
  // first. None on a collection with no documents.
  const EXAMPLES = 3;
  const MAX_EXAMPLE = 200;  // characters: a longer title reads as no topic
  function showExamples(documents) {
    const titles = [];
    const sources = new Set();
    for (const firstOfSource of [true, false]) {
      for (const doc of documents) {
        const title = (doc.title || "").trim();
        if (!title || title.length > MAX_EXAMPLE || titles.includes(title)) continue;
        if (titles.length >= EXAMPLES) break;
        if (firstOfSource && sources.has(doc.source)) continue;
        sources.add(doc.source);
        titles.push(title);
      }
    }
    examples.querySelector("ul").replaceChildren(...titles.map((title) => {
      const button = el("button", { type: "button", class: "example", text: title });
      button.addEventListener("click", () => {
        input.value = title;
        form.requestSubmit();
      });
      return el("li", {}, button);
    }));
    examples.hidden = !titles.length;
  }

  // The documents listing gives the examples and the sources to filter by, and tells
  // before the first question whether the server wants a key (it answers 401); the key is
  // asked for only when the reader acts.
  // The collection's: a late answer about the one chosen before is dropped.
  let listing = 0;
  function loadExamples(askForKey) {
    const mine = ++listing;
    return getJSON(withCollection("/api/documents?limit=100&facets=true"), { askForKey })
      .then((page) => {
        if (mine !== listing) return;
        keyHint.hidden = true;
        showExamples(page.documents);
        filters.setFacets(page.facets);
        offerCollections();  // (in case the list of collections waited for the key)
      }).catch((error) => {
        if (error instanceof KeyNeeded) keyHint.hidden = false;
      });
  }
  document.getElementById("enter-key").addEventListener("click", () => {
    loadExamples(true).then(() => input.focus());
  });

  const corpusInfo = document.getElementById("corpus-info");
  function showCorpus() {
    const name = collections.current();
    getJSON(withCollection("/api/health")).then((health) => {
      if (name !== collections.current() || health.documents == null) return;
      corpusInfo.textContent =
        `Answers are passages quoted from ${health.documents} documents (${health.passages} passages), with their source.`;
    }).catch(() => {});
  }

  // Another collection chosen: its own conversation (new, or the one it had), its topics,
  // its sources to filter by; the filters set for the other are cleared.
  function switchTo(name) {
    QA.panel.close();
    hideUndo();
    collectionNote.hidden = true;
    examples.hidden = true;
    filters.setFacets({ sources: [], dates: {} });
    filters.set(null);
    restore(store.load());
    loadExamples(false);
    showCorpus();
    const called = name || select.dataset.default;
    status.textContent = turns.length
      ? `Collection ${called}: its conversation is back.`
      : `Collection ${called}: a new conversation.`;
  }
  function offerCollections() {
    collections.offer(choice, select, switchTo);
  }

  // The address's collection checked first (one the server lacks: said, and the default
  // read instead). Then the stored conversation; or, from a share link, its question asked
  // anew after its earlier questions (the stored conversation set aside, with an undo).
  // The address then keeps only the collection, so that a reload does not ask again.
  collections.verify().then((message) => {
    if (message) {
      collectionNote.textContent = message;
      collectionNote.hidden = false;
    }
    collections.relink();
    offerCollections();
    loadExamples(false);
    showCorpus();
    restore(store.load());
    const shared = store.readShare(location.search);
    if (shared) {
      window.history.replaceState(null, "", withCollection("/"));
      const aside = setAside("A shared question opened; your conversation was put aside.");
      filters.set(shared.filters);
      ask(shared.question, { history: shared.history, keepUndo: true,
                             note: aside ? "Your conversation was put aside: Undo brings it back." : "" });
    }
  });
  input.focus();
})();
