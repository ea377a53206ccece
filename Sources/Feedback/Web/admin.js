'use strict';
// The admin page: projects, items, labelers and their personal links, progress, agreement and exports.
(() => {
  const { el, json, request, takeToken } = RLHF;
  const $ = (id) => document.getElementById(id);
  const storageKey = 'rlhf-admin-token';
  let token = takeToken(storageKey);
  let current = null; // the selected project

  function setStatus(text, isError = false) {
    $('status').textContent = text;
    $('status').classList.toggle('error', isError);
  }

  const api = (method, path, body) => json(token, method, path, body);

  // Runs an action from a form or button, reporting failures on the page.
  function action(handler) {
    return async (event) => {
      event.preventDefault();
      try {
        await handler(event);
      } catch (error) {
        if (error.status === 401) showLogin();
        setStatus(error.message, true);
      }
    };
  }

  function showLogin() {
    sessionStorage.removeItem(storageKey);
    $('console').hidden = true;
    $('login').hidden = false;
  }

  async function start() {
    if (!token) return showLogin();
    $('login').hidden = true;
    $('console').hidden = false;
    await loadProjects();
  }

  async function loadProjects() {
    const projects = await api('GET', '/api/projects');
    $('projects').tBodies[0].replaceChildren(...projects.map((project) => el('tr', {},
      el('td', { text: String(project.id) }), el('td', { text: project.name }), el('td', { text: project.mode }),
      el('td', { text: String(project.items) }), el('td', { text: String(project.labelers_per_item) }),
      el('td', {}, el('button', { type: 'button', text: 'Open', onclick: action(() => openProject(project)) })))));
  }

  async function openProject(project) {
    current = project;
    $('project').hidden = false;
    $('project-title').textContent = `${project.id}: ${project.name}`;
    $('links').replaceChildren();
    const labelers = await api('GET', '/api/labelers');
    $('member-select').replaceChildren(...labelers.filter((l) => !l.projects.includes(project.id))
      .map((l) => el('option', { value: String(l.id), text: `${l.name} (#${l.id})` })));
    await loadStats();
  }

  async function loadStats() {
    const stats = await api('GET', `/api/projects/${current.id}/stats`);
    $('project-progress').style.width = `${Math.round(100 * stats.progress.fraction)}%`;
    const alpha = stats.agreement == null ? 'not yet defined' : stats.agreement.toFixed(3);
    $('summary').textContent = `${stats.progress.submissions} of ${stats.progress.submissions_needed} judgments; `
      + `${stats.progress.items_complete} of ${stats.progress.items} items complete; Krippendorff's α ${alpha}.`;
    // An AI labeler's τ is against the human consensus; beside it, its τ against each human.
    const withHumans = (labeler) => labeler.agreement_with_humans
      .map((human) => `${human.name} ${human.tau.toFixed(3)} (${human.items} items)`).join(', ');
    $('labelers').tBodies[0].replaceChildren(...stats.labelers.map((labeler) => el('tr', {},
      el('td', { text: labeler.ai ? `${labeler.name} (AI)` : labeler.name }), el('td', { text: String(labeler.submissions) }),
      el('td', { text: labeler.tau == null ? '–' : labeler.tau.toFixed(3) }),
      el('td', { text: labeler.ai ? withHumans(labeler) : '' }),
      el('td', { class: labeler.unreliable ? 'error' : '', text: labeler.unreliable ? 'unreliable' : '' }))));
    $('ratings').hidden = stats.ratings.length === 0;
    $('ratings').tBodies[0].replaceChildren(...stats.ratings.map((rating) => el('tr', {},
      el('td', { text: rating.model }), el('td', { text: rating.rating.toFixed(0) }),
      el('td', { text: `${rating.low.toFixed(0)} – ${rating.high.toFixed(0)}` }), el('td', { text: String(rating.comparisons) }))));
  }

  // A labeler's personal link: the token rides in the fragment, which the browser never sends to the server.
  function showLink(name, labelerToken) {
    const link = `${location.origin}/label?project=${current.id}#token=${encodeURIComponent(labelerToken)}`;
    const field = el('input', { readonly: '', value: link, size: '80' });
    $('links').append(el('p', {}, el('strong', { text: name + ': ' }), field,
      el('button', { type: 'button', text: 'Copy', onclick: () => { field.select(); navigator.clipboard?.writeText(link); } })));
  }

  $('login-form').addEventListener('submit', action(async () => {
    token = $('token-input').value.trim();
    sessionStorage.setItem(storageKey, token);
    await start();
  }));

  $('project-form').addEventListener('submit', action(async (event) => {
    const form = new FormData(event.target);
    const settings = Object.fromEntries(form.entries());
    settings.labelers_per_item = Number(settings.labelers_per_item);
    const created = await api('POST', '/api/projects', settings);
    event.target.reset();
    setStatus(`Project ${created.id} created.`);
    await loadProjects();
  }));

  $('items-form').addEventListener('submit', action(async () => {
    const text = await $('items-file').files[0].text();
    const result = await api('POST', `/api/projects/${current.id}/items`, text);
    setStatus(`${result.added} items added.`);
    await loadProjects();
  }));

  $('invite-form').addEventListener('submit', action(async (event) => {
    const name = new FormData(event.target).get('name');
    const labeler = await api('POST', '/api/labelers', { name });
    await api('POST', `/api/projects/${current.id}/members`, { labeler_id: labeler.id });
    event.target.reset();
    showLink(name, labeler.token);
    setStatus(`${name} invited: send them the link below (shown only now).`);
  }));

  $('member-form').addEventListener('submit', action(async () => {
    const select = $('member-select');
    if (!select.value) return;
    const name = select.selectedOptions[0].textContent;
    await api('POST', `/api/projects/${current.id}/members`, { labeler_id: Number(select.value) });
    const issued = await api('POST', `/api/labelers/${select.value}/tokens`);
    showLink(name, issued.token);
    await openProject(current);
  }));

  $('refresh').addEventListener('click', action(loadStats));

  $('export-form').addEventListener('submit', action(async (event) => {
    const form = new FormData(event.target);
    const format = form.get('format');
    const query = `format=${format}&labelers=${form.get('labelers')}${form.get('exclude') ? '&exclude_unreliable=true' : ''}`;
    const response = await request(token, 'GET', `/api/projects/${current.id}/export?${query}`);
    const url = URL.createObjectURL(await response.blob());
    const link = el('a', { href: url, download: `project-${current.id}-${format}-${form.get('labelers')}.jsonl` });
    document.body.append(link);
    link.click();
    link.remove();
    URL.revokeObjectURL(url);
  }));

  start().catch((error) => setStatus(error.message, true));
})();
