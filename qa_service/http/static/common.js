// Shared helpers for the chat page and the document view. All untrusted text
// (questions, documents, metadata) goes into the page as text nodes, never as HTML.
"use strict";

const QA = (() => {
  // Build an element: attributes as properties or attributes, children as nodes or text.
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "class") node.className = value;
      else if (key === "text") node.textContent = value;
      else node.setAttribute(key, value === true ? "" : String(value));
    }
    for (const child of children.flat()) {
      if (child === null || child === undefined || child === false) continue;
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  // A passage's text with its answering sentence (always a substring of it) marked.
  function highlighted(text, highlight) {
    const at = highlight ? text.indexOf(highlight) : -1;
    if (at < 0) return [text];
    return [text.slice(0, at), el("mark", { text: highlight }), text.slice(at + highlight.length)];
  }

  // The collection the page reads, from its address (?collection=): null is the server's
  // default, and then no request names one (a server with one collection sees no change).
  let collection = (new URLSearchParams(location.search).get("collection") || "").trim()
    .slice(0, 100) || null;

  // `url` (a page or an API address, perhaps with a query and a #fragment) naming the
  // collection `name` (by default the page's); unchanged for the default.
  function withCollection(url, name = collection) {
    if (!name) return url;
    const at = url.indexOf("#");
    const [base, hash] = at < 0 ? [url, ""] : [url.slice(0, at), url.slice(at)];
    return `${base}${base.includes("?") ? "&" : "?"}collection=${encodeURIComponent(name)}${hash}`;
  }

  // The link that opens a document at one paragraph, in collection `name`.
  function documentHref(docId, paragraph, name = collection) {
    const path = docId.split("/").map(encodeURIComponent).join("/");
    return withCollection(`/documents/${path}` + (paragraph ? `#p${paragraph}` : ""), name);
  }

  // Only web addresses become links: a document's metadata must not run script.
  function safeUrl(url) {
    try {
      const parsed = new URL(url);
      return parsed.protocol === "http:" || parsed.protocol === "https:" ? parsed.href : null;
    } catch {
      return null;
    }
  }

  // One colour per source, in order of first appearance, so sources compare at a glance.
  const palette = new Map();
  function sourceClass(source) {
    if (!palette.has(source)) palette.set(source, palette.size % 8);
    return `src-${palette.get(source)}`;
  }
  function resetSources() {
    palette.clear();
  }

  // The API key, when the server asks for one: kept for this tab only (sessionStorage),
  // gone when the tab closes, never in a cookie or in localStorage.
  const KEY_ITEM = "qa-api-key";
  function storedKey() {
    try {
      return sessionStorage.getItem(KEY_ITEM) || "";
    } catch {
      return "";  // storage refused (a sandboxed frame): ask each time instead
    }
  }
  function storeKey(key) {
    try {
      if (key) sessionStorage.setItem(KEY_ITEM, key);
      else sessionStorage.removeItem(KEY_ITEM);
    } catch {
      // as above
    }
  }

  // Ask for the key in a modal dialog; resolves with it, or with "" when cancelled.
  function askForKey(message) {
    return new Promise((resolve) => {
      const input = el("input", { type: "password", id: "api-key", name: "key",
        autocomplete: "off", spellcheck: "false", required: true });
      const cancel = el("button", { type: "button", class: "secondary", text: "Cancel" });
      const form = el("form", { method: "dialog", class: "key-form" },
        el("p", { id: "api-key-message", text: message }),
        el("label", { for: "api-key", text: "API key" }), input,
        el("div", { class: "key-actions" },
          el("button", { type: "submit", text: "Use key" }), cancel));
      const dialog = el("dialog", { class: "key-dialog", "aria-labelledby": "api-key-message" },
        form);
      form.addEventListener("submit", (event) => {
        event.preventDefault();
        dialog.close("ok");
      });
      cancel.addEventListener("click", () => dialog.close("cancel"));
      dialog.addEventListener("close", () => {
        const key = dialog.returnValue === "ok" ? input.value.trim() : "";
        dialog.remove();
        resolve(key);
      });
      document.body.append(dialog);
      dialog.showModal();
      input.focus();
    });
  }

  // One dialog at a time: requests refused together wait for the same key.
  let keyRequest = null;
  function keyFromUser(message) {
    if (!keyRequest) keyRequest = askForKey(message).finally(() => { keyRequest = null; });
    return keyRequest;
  }

  // Whether this server wants a key (it has answered 401, or a key is kept for the tab):
  // what it serves is then kept no longer than the key is (store.js).
  let keyWanted = false;
  const keyed = () => keyWanted || storedKey() !== "";

  // A refused key when the caller chose not to ask (askForKey: false): it says so itself.
  class KeyNeeded extends Error {}

  // One request: its response and JSON body (null if none); a network failure says so.
  async function fetchJSON(url, options = {}) {
    let response;
    try {
      response = await fetch(url, options);
    } catch {
      throw new Error("The service cannot be reached. Check that it is running.");
    }
    let body = null;
    try {
      body = await response.json();
    } catch {
      body = null;
    }
    return { response, body };
  }

  async function getJSON(url, { askForKey = true, ...options } = {}) {
    for (;;) {
      const key = storedKey();
      const headers = { ...(options.headers || {}) };
      if (key) headers.Authorization = `Bearer ${key}`;
      const { response, body } = await fetchJSON(url, { ...options, headers });
      if (response.status === 401) {
        keyWanted = true;
        if (storedKey() !== key) continue;  // another request got a new key meanwhile
        if (!askForKey) throw new KeyNeeded("This service needs an API key.");
        storeKey("");
        const given = await keyFromUser(key
          ? "That API key was not accepted. Enter another one."
          : "This service needs an API key.");
        if (!given) throw new Error("This service needs an API key to answer.");
        storeKey(given);
        continue;
      }
      if (!response.ok) {
        const message = body && body.error && body.error.message;
        throw new Error(message || `The service answered ${response.status}.`);
      }
      return body;
    }
  }

  // The collections, when the server has several (docs/api.md, "Collections"): the page's
  // choice lives in its address, so that a reload, a link or a share keeps it.
  const collections = (() => {
    let offered = false;

    // The page's address naming `name` (none for the default), the rest of it kept.
    function setAddress(name) {
      const url = new URL(location.href);
      if (name) url.searchParams.set("collection", name);
      else url.searchParams.delete("collection");
      window.history.replaceState(null, "", url.pathname + url.search + url.hash);
    }

    // The links between the pages (class "keeps-collection") name the page's collection.
    function relink() {
      for (const link of document.querySelectorAll("a.keeps-collection")) {
        if (!link.dataset.base) link.dataset.base = link.getAttribute("href");
        link.setAttribute("href", withCollection(link.dataset.base));
      }
    }

    function choose(name) {
      collection = name || null;
      setAddress(collection);
      relink();
    }

    // Check the address's collection before the page asks it anything: one the server
    // does not have is said in the server's words, and the default is read instead.
    // Resolves with that message, or "" (none named, or it exists, or the check failed:
    // the page's own requests then say what is wrong).
    async function verify() {
      if (!collection) return "";
      let response;
      let body = null;
      try {
        response = await fetch(withCollection("/api/health"));  // open: asks for no key
        body = await response.json();
      } catch {
        return "";
      }
      if (response.status !== 404) return "";
      const message = (body && body.error && body.error.message) ||
        `There is no collection “${collection}”.`;
      choose(null);
      const said = message.charAt(0).toUpperCase() + message.slice(1).replace(/\.?$/, ".");
      return `${said} Showing the default collection instead.`;
    }

    // Fill and show the selector (`select` inside `holder`) when the server lists more
    // than one collection; `onChange(name)` once the reader chooses another (null: the
    // default). Nothing shows with one collection. Resolves with whether it has been
    // settled (false: the list needs the API key first, so try again once it is given).
    async function offer(holder, select, onChange) {
      if (offered) return true;
      let found;
      try {
        found = await getJSON("/api/collections", { askForKey: false });
      } catch {
        return false;
      }
      if (offered) return true;
      offered = true;
      const list = (found && Array.isArray(found.collections) ? found.collections : [])
        .filter((c) => c && typeof c.name === "string");
      if (list.length < 2) return true;
      const first = list.find((c) => c.default) || list[0];
      const shown = collection || first.name;
      if (!list.some((c) => c.name === shown)) return true;  // (verify() said so)
      select.replaceChildren(...list.map((c) => el("option", {
        value: c.name, selected: c.name === shown,
        text: c.status === "ok" ? c.name : `${c.name} (unavailable)` })));
      select.dataset.default = first.name;
      select.addEventListener("change", () => {
        const name = select.value === first.name ? null : select.value;
        if (name === collection) return;
        choose(name);
        onChange(name);
      });
      holder.hidden = false;
      return true;
    }

    return { current: () => collection, verify, offer, relink, setAddress };
  })();

  return { el, highlighted, documentHref, withCollection, collections, safeUrl, sourceClass,
           resetSources, fetchJSON, getJSON, KeyNeeded, keyed };
})();
