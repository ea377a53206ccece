'use strict';
// The labeler page: one item at a time, ranked by drag and drop or by keyboard, or judged with thumbs.
(() => {
  const { el, json, takeToken } = RLHF;
  const main = document.getElementById('app');
  const project = main.dataset.project;
  const token = takeToken('rlhf-labeler-token');
  const $ = (id) => document.getElementById(id);

  const state = {
    mode: 'ranking',
    item: null,
    ranks: new Map(),    // completion id -> rank (1 is best; equal ranks tie)
    flagged: new Set(),  // completion ids flagged as nonsensical or irrelevant
    thumbs: new Map(),   // completion id -> true (up) / false (down)
    order: [],           // completion ids in display order
    selected: 0,
    editing: false,      // true while changing an earlier submission
    busy: false,
  };

  function setStatus(text, isError = false) {
    $('status').textContent = text;
    $('status').classList.toggle('error', isError);
  }

  async function call(method, path, body) {
    state.busy = true;
    try {
      return await json(token, method, path, body);
    } finally {
      state.busy = false;
    }
  }

  async function start() {
    if (!token) {
      main.dataset.state = 'error';
      setStatus('This page needs your personal link (it ends in #token=...).', true);
      return;
    }
    try {
      const info = await call('GET', `/api/projects/${project}`);
      state.mode = info.mode;
      $('project-name').textContent = info.name;
      $('guidelines').textContent = info.guidelines || '(no guidelines)';
      $('criterion').textContent = info.criterion;
      $('keys').textContent = state.mode === 'ranking'
        ? 'Drag to order, best on top. Or select with ↑/↓ and type a rank 1–9 (the same digit twice is a tie, 0 clears); '
          + 'F flags nonsense; Enter submits; S skips; P edits your previous answer.'
        : 'Select with ↑/↓; U or + is a thumb up, D or - a thumb down; S skips; P edits your previous answer.';
      await loadNext();
    } catch (error) {
      fail(error);
    }
  }

  function fail(error) {
    main.dataset.state = 'error';
    setStatus(error.message, true);
  }

  async function loadNext() {
    const item = await call('GET', `/api/projects/${project}/next`);
    state.editing = false;
    await refreshProgress();
    if (!item) {
      state.item = null;
      $('item').hidden = true;
      $('done').hidden = false;
      main.dataset.state = 'done';
      return;
    }
    show(item, null, {});
  }

  async function refreshProgress() {
    const progress = await call('GET', `/api/projects/${project}/progress`);
    const fraction = progress.total ? progress.done / progress.total : 1;
    $('progress-bar').style.width = `${Math.round(100 * fraction)}%`;
    $('progress-text').textContent = `${progress.done} / ${progress.total}`;
  }

  function show(item, ranking, thumbs) {
    state.item = item;
    state.order = item.completions.map((c) => c.id);
    state.flagged = new Set(ranking ? ranking.flagged : []);
    // Answers saved before flags excluded ranks may hold both: the flag wins, so they can be saved again.
    state.ranks = new Map(Object.entries(ranking ? ranking.ranks : {}).filter(([id]) => !state.flagged.has(id)));
    state.thumbs = new Map(Object.entries(thumbs));
    state.selected = 0;
    $('prompt').textContent = item.prompt;
    $('done').hidden = true;
    $('item').hidden = false;
    $('submit').hidden = state.mode !== 'ranking';
    $('skip').textContent = state.editing ? 'Back (S)' : 'Skip (S)';
    main.dataset.item = item.item_id;
    main.dataset.state = 'labeling';
    render();
  }

  function render() {
    const texts = new Map(state.item.completions.map((c) => [c.id, c.text]));
    const list = $('completions');
    list.replaceChildren(...state.order.map((id, index) => card(id, texts.get(id), index)));
  }

  function card(id, text, index) {
    const rank = state.ranks.get(id);
    const thumb = state.thumbs.get(id);
    const classes = ['completion'];
    if (index === state.selected) classes.push('selected');
    if (state.flagged.has(id)) classes.push('flagged');
    const badge = state.mode === 'ranking'
      ? el('span', { class: 'rank', text: rank === undefined ? '–' : String(rank) })
      : el('span', { class: 'rank', text: thumb === undefined ? '?' : (thumb ? '👍' : '👎') });
    const controls = state.mode === 'ranking'
      ? [el('button', { type: 'button', class: 'flag', text: state.flagged.has(id) ? 'Flagged (F)' : 'Flag (F)',
                        onclick: () => { select(index); toggleFlag(); } })]
      : [el('button', { type: 'button', text: '👍 Good (U)', onclick: () => { select(index); sendThumb(true); } }),
         el('button', { type: 'button', text: '👎 Bad (D)', onclick: () => { select(index); sendThumb(false); } })];
    const node = el('li', { class: classes.join(' '), 'data-id': id, draggable: state.mode === 'ranking' ? 'true' : 'false',
                            onclick: () => select(index) },
      badge, el('div', { class: 'text', text }), el('div', { class: 'controls' }, ...controls));
    node.addEventListener('dragstart', (event) => event.dataTransfer.setData('text/plain', id));
    node.addEventListener('dragover', (event) => event.preventDefault());
    node.addEventListener('drop', (event) => {
      event.preventDefault();
      const box = node.getBoundingClientRect();
      dropBefore(event.dataTransfer.getData('text/plain'), id, event.clientY > box.top + box.height / 2);
    });
    return node;
  }

  function select(index) {
    state.selected = Math.max(0, Math.min(state.order.length - 1, index));
    render();
  }

  // Dragging sets the order outright: every completion takes its position as its rank.
  function dropBefore(dragged, target, after) {
    if (!state.order.includes(dragged) || dragged === target) return;
    const order = state.order.filter((id) => id !== dragged);
    order.splice(order.indexOf(target) + (after ? 1 : 0), 0, dragged);
    state.order = order;
    state.ranks = new Map(order.filter((id) => !state.flagged.has(id)).map((id, index) => [id, index + 1]));
    state.selected = order.indexOf(dragged);
    render();
  }

  function setRank(digit) {
    if (digit > state.order.length) return;
    const id = state.order[state.selected];
    if (digit === 0) {
      state.ranks.delete(id);
    } else {
      state.ranks.set(id, digit);
      state.flagged.delete(id);  // a flagged completion is left out of the ranking
    }
    state.selected = Math.min(state.order.length - 1, state.selected + 1);
    render();
  }

  function toggleFlag() {
    const id = state.order[state.selected];
    if (state.flagged.has(id)) {
      state.flagged.delete(id);
    } else {
      state.flagged.add(id);
      state.ranks.delete(id);
    }
    render();
  }

  async function submit() {
    const missing = state.order.filter((id) => !state.ranks.has(id) && !state.flagged.has(id));
    if (missing.length > 0) {
      setStatus('Give every completion a rank, or flag it with F.', true);
      return;
    }
    try {
      await call('POST', `/api/items/${state.item.item_id}/ranking`,
                 { ranks: Object.fromEntries(state.ranks), flagged: [...state.flagged] });
      saved();
      await loadNext();
    } catch (error) {
      setStatus(error.message, true);
    }
  }

  async function sendThumb(up) {
    const id = state.order[state.selected];
    try {
      await call('POST', `/api/items/${state.item.item_id}/thumb`, { completion_id: id, up });
      state.thumbs.set(id, up);
      if (state.order.every((c) => state.thumbs.has(c))) {
        saved();
        await loadNext();
      } else {
        select(state.selected + 1);
      }
    } catch (error) {
      setStatus(error.message, true);
    }
  }

  function saved() {
    main.dataset.saved = String(Number(main.dataset.saved) + 1);
    setStatus(state.editing ? 'Your earlier answer was updated.' : 'Saved.');
  }

  async function skip() {
    try {
      if (!state.editing) await call('POST', `/api/items/${state.item.item_id}/skip`);
      setStatus(state.editing ? '' : 'Skipped.');
      await loadNext();
    } catch (error) {
      setStatus(error.message, true);
    }
  }

  // Opens the submission before the one being edited (or the latest one) with its answers filled in.
  async function editPrevious() {
    try {
      const submissions = await call('GET', `/api/projects/${project}/submissions`);
      const current = state.editing ? submissions.findIndex((s) => s.item_id === state.item.item_id) : -1;
      const previous = submissions[current + 1];
      if (!previous) {
        setStatus('No earlier answer to edit.');
        return;
      }
      const labeled = await call('GET', `/api/items/${previous.item_id}`);
      state.editing = true;
      show(labeled.item, labeled.ranking, labeled.thumbs);
      setStatus('Editing an earlier answer: change it and submit, or press S to go back.');
    } catch (error) {
      setStatus(error.message, true);
    }
  }

  document.addEventListener('keydown', (event) => {
    if (state.busy || event.ctrlKey || event.metaKey || event.altKey) return;
    const key = event.key;
    if (key === 'p' || key === 'P') { event.preventDefault(); editPrevious(); return; }
    if (!state.item || main.dataset.state !== 'labeling') return;
    const ranking = state.mode === 'ranking';
    if (key === 'ArrowDown' || key === 'j') select(state.selected + 1);
    else if (key === 'ArrowUp' || key === 'k') select(state.selected - 1);
    else if (ranking && /^[0-9]$/.test(key)) setRank(Number(key));
    else if (ranking && (key === 'Backspace' || key === 'Delete')) setRank(0);
    else if (ranking && (key === 'f' || key === 'F')) toggleFlag();
    else if (ranking && key === 'Enter') submit();
    else if (!ranking && (key === 'u' || key === 'U' || key === '+')) sendThumb(true);
    else if (!ranking && (key === 'd' || key === 'D' || key === '-')) sendThumb(false);
    else if (key === 's' || key === 'S') skip();
    else return;
    event.preventDefault();
  });
  $('submit').addEventListener('click', submit);
  $('skip').addEventListener('click', skip);
  $('previous').addEventListener('click', editPrevious);
  $('done-previous').addEventListener('click', editPrevious);

  start();
})();
