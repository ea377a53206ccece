'use strict';
// Shared by the labeler, admin and chat pages: the token from the link's fragment, API calls with it as the bearer
// header, and element building that only ever sets text (prompts and completions are untrusted).
const RLHF = (() => {
  class ApiError extends Error {
    constructor(status, message) {
      super(message);
      this.status = status;
    }
  }

  // The token arrives as #token=... (browsers never send fragments to servers). It is kept in this tab's
  // session storage so a reload still works, and removed from the address bar.
  function takeToken(storageKey) {
    const fromLink = new URLSearchParams(location.hash.slice(1)).get('token');
    if (fromLink) {
      sessionStorage.setItem(storageKey, fromLink);
      history.replaceState(null, '', location.pathname + location.search);
      return fromLink;
    }
    return sessionStorage.getItem(storageKey);
  }

  // `accept` asks for another answer type than JSON (the chat's event stream).
  async function request(token, method, path, body, accept) {
    const headers = { Authorization: 'Bearer ' + token };
    if (accept) headers.Accept = accept;
    let payload;
    if (typeof body === 'string') {
      headers['Content-Type'] = 'application/x-ndjson';
      payload = body;
    } else if (body !== undefined) {
      headers['Content-Type'] = 'application/json';
      payload = JSON.stringify(body);
    }
    const response = await fetch(path, { method, headers, body: payload, cache: 'no-store' });
    if (!response.ok) {
      let message = response.status + ' ' + response.statusText;
      try {
        message = (await response.json()).error.message;
      } catch (_) { /* not a JSON error body */ }
      throw new ApiError(response.status, message);
    }
    return response;
  }

  async function json(token, method, path, body) {
    const response = await request(token, method, path, body);
    return response.status === 204 ? null : response.json();
  }

  // el('li', {class: 'x', text: untrusted}, child...): attributes by name, text only through textContent.
  function el(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
      if (name === 'text') node.textContent = value;
      else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
      else node.setAttribute(name, value);
    }
    node.append(...children);
    return node;
  }

  return { ApiError, takeToken, request, json, el };
})();
