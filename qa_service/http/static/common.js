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

  // The link that opens a document at one paragraph.
  function documentHref(docId, paragraph) {
    const path = docId.split("/").map(encodeURIComponent).join("/");
    return `/documents/${path}` + (paragraph ? `#p${paragraph}` : "");
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

  async function getJSON(url, options = {}) {
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
    if (!response.ok) {
      const message = body && body.error && body.error.message;
      throw new Error(message || `The service answered ${response.status}.`);
    }
    return body;
  }

  return { el, documentHref, safeUrl, sourceClass, resetSources, getJSON };
})();
