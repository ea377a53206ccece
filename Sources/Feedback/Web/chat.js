'use strict';
// The end user's chat: each message gets two replies to choose between (or one to rate), streamed as the model
// writes them. Every choice, thumb and correction is a feedback event that the user's own adapter learns from.
(() => {
  const { el, json, request, takeToken } = RLHF;
  const main = document.getElementById('app');
  const token = takeToken('rlhf-chat-token');
  const $ = (id) => document.getElementById(id);
  const replyNodes = [$('reply-0'), $('reply-1')];

  const state = {
    user: null,
    messages: [],  // the conversation as the model gets it: the user's messages and the replies the user kept
    turn: null,    // the latest answer: {id, mode, replies: [{id, text}]}
    kept: null,    // the reply of `turn` the user chose or rated
    busy: false,   // a feedback call is in flight
    poll: 0,
  };

  function setStatus(text, isError = false) {
    $('status').textContent = text;
    $('status').classList.toggle('error', isError);
  }

  function fail(error) {
    main.dataset.state = 'error';
    setStatus(error.message, true);
  }

  async function start() {
    if (!token) {
      main.dataset.state = 'error';
      setStatus('This page needs your personal link (it ends in #token=...).', true);
      return;
    }
    try {
      state.user = await json(token, 'GET', '/api/me');
      $('user-name').textContent = state.user.name;
      await refreshAdapter();
      main.dataset.state = 'ready';
      $('message').focus();
    } catch (error) {
      fail(error);
    }
  }

  // While a new version trains, this checks again until it serves, so the line never stays at "training…".
  async function refreshAdapter() {
    clearTimeout(state.poll);
    try {
      const adapter = await json(token, 'GET', `/api/users/${state.user.id}/adapter`);
      const parts = [adapter.version === 0 ? 'the base model (no personal version yet)' : `version ${adapter.version}`,
                     `${adapter.events} feedback event${adapter.events === 1 ? '' : 's'}`];
      if (adapter.pending > 0) parts.push(`${adapter.pending} not learnt yet`);
      if (adapter.training) parts.push('training…');
      $('adapter').textContent = 'Your model: ' + parts.join(', ');
      if (adapter.training) state.poll = setTimeout(refreshAdapter, 10000);
    } catch (error) {
      $('adapter').textContent = `Your model: status unavailable (${error.message})`;
    }
  }

  function message(role, content) {
    const node = el('div', { class: `message ${role}` },
      el('div', { class: 'who', text: role === 'user' ? 'You' : 'Assistant' }), el('div', { class: 'text', text: content }));
    $('conversation').append(node);
    return node;
  }

  function setChoices(enabled) {
    for (const id of ['prefer-0', 'prefer-1', 'thumb-up', 'thumb-down']) $(id).disabled = !enabled;
  }

  function setCorrection(enabled) {
    $('correction').disabled = !enabled;
    $('send-correction').disabled = !enabled;
  }

  async function send() {
    const content = $('message').value;
    const phase = main.dataset.state;
    if (!state.user || phase === 'loading' || phase === 'streaming' || !content.trim()) return;
    if (phase === 'choosing') {
      setStatus(state.turn.mode === 'compare' ? 'First choose the better reply (1 or 2).' : 'First rate the reply (+ or -).', true);
      return;
    }
    const mode = $('mode').value;
    const messages = [...state.messages, { role: 'user', content }];
    const shown = message('user', content);
    $('message').value = '';
    $('message').blur();  // so that 1, 2, + and - choose once the replies are in
    beginTurn(mode);
    try {
      const answer = await streamReplies({ messages, mode });
      state.messages = messages;
      state.turn = { id: answer.turn, mode, replies: answer.replies };
      answer.replies.forEach((reply, index) => { replyNodes[index].textContent = reply.text; });
      main.dataset.turn = String(answer.turn);
      main.dataset.state = 'choosing';
      setChoices(true);
      setCorrection(true);
      setStatus(mode === 'compare' ? 'Which reply is better? Press 1 or 2.' : 'Was this reply good? Press + or -.');
      $('send').scrollIntoView({ block: 'nearest' });
    } catch (error) {
      shown.remove();
      if (!$('message').value) $('message').value = content;
      $('turn').hidden = true;
      fail(error);
    } finally {
      $('send').disabled = false;
    }
  }

  function beginTurn(mode) {
    const compare = mode === 'compare';
    state.turn = null;
    state.kept = null;
    main.dataset.turn = '';
    main.dataset.state = 'streaming';
    for (const node of replyNodes) {
      node.textContent = '';
      node.closest('.reply').classList.remove('kept');
    }
    replyNodes[1].closest('.reply').hidden = !compare;
    $('replies').classList.toggle('single', !compare);
    $('prefer-0').hidden = !compare;
    $('prefer-1').hidden = !compare;
    $('thumbs').hidden = compare;
    $('correction').value = '';
    setChoices(false);
    setCorrection(false);
    $('send').disabled = true;
    $('turn').hidden = false;
    setStatus(compare ? 'Writing two replies…' : 'Writing a reply…');
  }

  // EventSource cannot POST, so the stream is read from fetch: events are blocks of `field: value` lines that end
  // with a blank line. Resolves with the `done` event's data.
  async function streamReplies(body) {
    const response = await request(token, 'POST', '/api/chat', body, 'text/event-stream');
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { value, done } = await reader.read();
        buffer = (buffer + decoder.decode(value, { stream: !done })).replace(/\r\n/g, '\n');
        let end;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const { event, data } = parseEvent(buffer.slice(0, end));
          buffer = buffer.slice(end + 2);
          if (event === 'delta' && data && replyNodes[data.reply]) replyNodes[data.reply].textContent += data.text;
          else if (event === 'done') return data;
          else if (event === 'error') throw new Error(data.error.message);
        }
        if (done) throw new Error('The reply stream ended before the replies were complete.');
      }
    } finally {
      reader.cancel().catch(() => {});
    }
  }

  function parseEvent(block) {
    let event = 'message';
    const data = [];
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) continue;  // a comment, e.g. a keep-alive
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
    }
    return { event, data: data.length > 0 ? JSON.parse(data.join('\n')) : null };
  }

  // The kept reply joins the conversation as the assistant's message, so the next request sends it back.
  async function keep(index, body, thanks) {
    if (main.dataset.state !== 'choosing' || state.busy) return;
    const reply = state.turn.replies[index];
    state.busy = true;
    setChoices(false);
    try {
      await json(token, 'POST', `/api/chat/${state.turn.id}/feedback`, body(reply.id));
      await refreshAdapter();
      state.kept = reply;
      state.messages.push({ role: 'assistant', content: reply.text });
      message('assistant', reply.text);
      replyNodes[index].closest('.reply').classList.add('kept');
      acknowledged(thanks);
      main.dataset.state = 'ready';
      $('message').focus();
      $('send').scrollIntoView({ block: 'nearest' });
    } catch (error) {
      setChoices(true);
      setStatus(error.message, true);
    } finally {
      state.busy = false;
    }
  }

  function choose(index) {
    if (state.turn && state.turn.mode === 'compare') keep(index, (id) => ({ chosen: id }), `Thanks! Reply ${index + 1} kept.`);
  }

  function rate(up) {
    if (state.turn && state.turn.mode === 'single') {
      keep(0, (id) => ({ reply: id, thumb: up ? 'up' : 'down' }), up ? 'Thanks! Rated good.' : 'Thanks! Rated bad.');
    }
  }

  // A correction is about the reply the user kept (before a choice, the first one); it does not end the turn.
  async function sendCorrection() {
    const text = $('correction').value;
    if (!state.turn || state.busy) return;
    if (!text.trim()) {
      setStatus('Write the reply you wanted first.', true);
      return;
    }
    const reply = state.kept || state.turn.replies[0];
    state.busy = true;
    setCorrection(false);
    try {
      await json(token, 'POST', `/api/chat/${state.turn.id}/feedback`, { reply: reply.id, correction: text });
      await refreshAdapter();
      $('correction').value = '';
      acknowledged('Thanks! Your correction was saved.');
    } catch (error) {
      setStatus(error.message, true);
    } finally {
      state.busy = false;
      setCorrection(state.turn !== null);
    }
  }

  function acknowledged(text) {
    main.dataset.feedback = String(Number(main.dataset.feedback) + 1);
    setStatus(text);
  }

  $('message').addEventListener('keydown', (event) => {
    if (event.key === 'Enter' && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      send();
    }
  });
  document.addEventListener('keydown', (event) => {
    const typing = event.target instanceof Element && event.target.matches('textarea, input, select');
    if (typing || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === '1' || key === '2') choose(Number(key) - 1);
    else if (key === '+') rate(true);
    else if (key === '-') rate(false);
    else return;
    event.preventDefault();
  });
  $('send').addEventListener('click', send);
  $('prefer-0').addEventListener('click', () => choose(0));
  $('prefer-1').addEventListener('click', () => choose(1));
  $('thumb-up').addEventListener('click', () => rate(true));
  $('thumb-down').addEventListener('click', () => rate(false));
  $('send-correction').addEventListener('click', sendCorrection);

  start();
})();
