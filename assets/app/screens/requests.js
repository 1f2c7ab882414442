// «Заявки»: the resident's requests, a new request (category search, text, photos) and
// the request card with its timeline, comments, reopening and rating.

import { api, apiForm, photoUrl } from '../api.js?v=2';
import { date, el, put } from '../dom.js?v=2';
import { navigate, registerPropertyAction, registerScreen } from '../router.js?v=2';

// Deadlines and events are stored in UTC: shown in the resident's own time zone.
const LOCAL_DAY = { day: '2-digit', month: '2-digit', year: 'numeric' };
const LOCAL_TIME = { hour: '2-digit', minute: '2-digit' };

function localDay(text) {
  const d = text ? new Date(text) : null;
  return d && !Number.isNaN(d.getTime()) ? d.toLocaleDateString('ru-RU', LOCAL_DAY) : date(text);
}

function time(text) {
  const d = text ? new Date(text) : null;
  if (!d || Number.isNaN(d.getTime())) return date(text);
  return `${d.toLocaleDateString('ru-RU', LOCAL_DAY)} ${d.toLocaleTimeString('ru-RU', LOCAL_TIME)}`;
}

function chip(request) {
  const cls = request.overdue ? 'chip error' : (request.status === 'done' || request.status === 'closed' ? 'chip ok' : 'chip pending');
  return el('span', { class: cls }, request.status_label + (request.overdue ? ' · просрочена' : ''));
}

function errorNote(form, error) {
  let note = form.querySelector('.notice.error');
  if (!note) {
    note = el('p', { class: 'notice error', role: 'alert' });
    form.prepend(note);
  }
  note.textContent = error.message;
}

async function renderList(root, params) {
  const { requests } = await api('GET', '/requests');
  root.innerHTML = '';
  put(root, el('h1', {}, 'Заявки'));
  put(root, el('div', { class: 'stack' },
    el('button', { type: 'button', class: 'button', onclick: () => navigate('request-new', params || {}) },
      'Новая заявка')));
  if (requests.length === 0) {
    put(root, el('p', { class: 'card' }, 'Заявок пока нет. Сообщите управляющей организации о протечке, поломке или уборке.'));
    return;
  }
  put(root, el('div', { class: 'list', role: 'list' }, requests.map((r) => el('button', {
    type: 'button',
    role: 'listitem',
    class: 'card request',
    'data-request-id': r.id,
    onclick: () => navigate('request', { id: r.id }),
  },
  el('div', { class: 'address' }, `№ ${r.number} · ${r.problem_title}`),
  el('p', { class: 'meta' }, `Подана ${localDay(r.created_at)}${r.deadline_at ? ` · срок ${localDay(r.deadline_at)}` : ''}`),
  r.emergency ? el('span', { class: 'chip error' }, 'Аварийная') : null,
  chip(r)))));
}

function problemsOf(tree) {
  const out = [];
  for (const place of tree.places || []) {
    for (const category of place.categories || []) {
      for (const problem of category.problems || []) {
        out.push({ place: place.code, placeTitle: place.title, code: problem.code, title: problem.title, category: category.title, premise: place.premise });
      }
    }
  }
  return out;
}

async function renderNew(root, params) {
  const [tree, { items }] = await Promise.all([api('GET', '/categories'), api('GET', '/properties')]);
  const all = problemsOf(tree);
  const linked = items.filter((p) => p.status === 'linked');
  root.innerHTML = '';
  put(root, el('h1', {}, 'Новая заявка'));
  if (linked.length === 0) {
    put(root, el('p', { class: 'card' }, 'Заявку можно подать, когда право на помещение подтверждено.'));
    return;
  }
  let chosen = null;
  const premise = el('select', { name: 'premise', id: 'premise' }, linked.map((p) =>
    el('option', { value: p.id, selected: String(p.id) === String(params.propertyId) }, `${p.address}, № ${p.number}`)));
  const search = el('input', { type: 'search', id: 'problem-search', placeholder: 'Что случилось? Например: течёт кран', autocomplete: 'off' });
  const hits = el('div', { class: 'list', role: 'listbox', id: 'problem-hits' });
  const picked = el('p', { class: 'meta', id: 'problem-picked' }, 'Проблема не выбрана');
  const show = (list) => {
    hits.replaceChildren(...list.slice(0, 12).map((p) => el('button', {
      type: 'button', role: 'option', class: 'card option', 'data-problem': p.code, 'data-place': p.place,
      onclick: () => { chosen = p; picked.textContent = `${p.placeTitle} · ${p.category} · ${p.title}`; hits.replaceChildren(); },
    }, `${p.title}`, el('span', { class: 'meta' }, ` — ${p.placeTitle}, ${p.category}`))));
  };
  search.addEventListener('input', async () => {
    const q = search.value.trim();
    if (!q) { hits.replaceChildren(); return; }
    try {
      const found = await api('GET', `/categories?q=${encodeURIComponent(q)}`);
      const list = found.hits ? found.hits.map((h) => ({ place: h.place, placeTitle: h.place_title || '', code: h.problem || h.code, title: h.problem_title || h.title, category: h.category_title || '' })) : problemsOf(found);
      show(list);
    } catch {
      const low = q.toLowerCase();
      show(all.filter((p) => `${p.title} ${p.category}`.toLowerCase().includes(low)));
    }
  });
  const text = el('textarea', { name: 'text', id: 'request-text', rows: 4, required: true, placeholder: 'Опишите, что случилось и где' });
  const photos = el('input', { type: 'file', name: 'photos', id: 'request-photos', accept: 'image/*', multiple: true });
  const submit = el('button', { type: 'submit', class: 'button' }, 'Отправить');
  const form = el('form', { class: 'stack', id: 'request-form' },
    el('label', { for: 'premise' }, 'Помещение'), premise,
    el('label', { for: 'problem-search' }, 'Проблема'), search, hits, picked,
    el('label', { for: 'request-text' }, 'Описание'), text,
    el('label', { for: 'request-photos' }, 'Фото (необязательно, до 5)'), photos,
    submit);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!chosen) { errorNote(form, new Error('Выберите проблему из списка.')); return; }
    const body = { place: chosen.place, problem: chosen.code, text: text.value, premise_id: Number(premise.value) };
    const data = new FormData();
    data.append('request', JSON.stringify(body));
    for (const file of photos.files) data.append('photos', file, file.name);
    submit.disabled = true;
    try {
      const card = await apiForm('/requests', data);
      navigate('request', { id: card.id });
    } catch (error) {
      errorNote(form, error);
      submit.disabled = false;
    }
  });
  put(root, form);
}

function photoImg(requestId, photoId) {
  const img = el('img', { class: 'photo', alt: 'Фото к заявке', loading: 'lazy' });
  photoUrl(`/requests/${requestId}/photos/${photoId}`).then((url) => { img.src = url; }).catch(() => { img.alt = 'Фото не загрузилось'; });
  return img;
}

async function renderCard(root, params) {
  const r = await api('GET', `/requests/${params.id}`);
  root.innerHTML = '';
  put(root, el('h1', {}, `Заявка № ${r.number}`));
  put(root, el('div', { class: 'card' },
    el('div', { class: 'address' }, r.problem_title || ''),
    el('p', { class: 'meta' }, [r.address, r.deadline_at ? `срок ${time(r.deadline_at)}` : null].filter(Boolean).join(' · ')),
    chip(r),
    el('p', {}, r.text || '')));
  const own = (r.photos || []).filter((p) => !p.event_id);
  if (own.length) put(root, el('div', { class: 'photos' }, own.map((p) => photoImg(r.id, p.id))));
  put(root, el('h2', {}, 'Ход заявки'));
  put(root, el('ol', { class: 'timeline' }, (r.events || []).map((e) => el('li', { class: `event ${e.kind}` },
    el('p', { class: 'meta' }, time(e.created_at), ' · ', { resident: 'Вы', staff: 'УО', system: 'Система', gis: 'ГИС ЖКХ' }[e.author_role] || ''),
    e.status_label ? el('strong', {}, e.status_label) : null,
    e.text ? el('p', {}, e.text) : null,
    (e.photos || []).length ? el('div', { class: 'photos' }, e.photos.map((id) => photoImg(r.id, id))) : null))));

  const comment = el('textarea', { id: 'comment-text', rows: 3, placeholder: 'Комментарий для УО' });
  const files = el('input', { type: 'file', accept: 'image/*', multiple: true });
  const form = el('form', { class: 'stack', id: 'comment-form' }, el('label', { for: 'comment-text' }, 'Комментарий'), comment, files,
    el('button', { type: 'submit', class: 'button secondary' }, 'Отправить комментарий'));
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const data = new FormData();
    data.append('comment', JSON.stringify({ text: comment.value }));
    for (const file of files.files) data.append('photos', file, file.name);
    try { await apiForm(`/requests/${r.id}/comments`, data); renderCard(root, params); } catch (error) { errorNote(form, error); }
  });
  put(root, form);

  if (r.can_reopen) {
    const reason = el('textarea', { id: 'reopen-reason', rows: 2, placeholder: 'Что осталось не так' });
    const reopen = el('form', { class: 'stack' }, reason, el('button', { type: 'submit', class: 'button secondary' }, 'Вернуть в работу'));
    reopen.addEventListener('submit', async (event) => {
      event.preventDefault();
      try { await api('POST', `/requests/${r.id}/reopen`, { reason: reason.value }); renderCard(root, params); } catch (error) { errorNote(reopen, error); }
    });
    put(root, reopen);
  }
  if (r.can_rate) {
    const rate = el('div', { class: 'stack rating' }, el('p', {}, 'Оцените работу'),
      [1, 2, 3, 4, 5].map((n) => el('button', {
        type: 'button', class: 'button secondary', 'aria-label': `Оценка ${n}`,
        onclick: async () => {
          try { await api('POST', `/requests/${r.id}/rate`, { rating: n }); renderCard(root, params); } catch (error) { errorNote(rate, error); }
        },
      }, '★'.repeat(n))));
    put(root, rate);
  }
}

registerScreen('requests', { title: 'Заявки', render: renderList });
registerScreen('request-new', { title: 'Новая заявка', render: renderNew });
registerScreen('request', { title: 'Заявка', render: renderCard });
registerPropertyAction({ label: 'Подать заявку', screen: 'request-new' });
registerPropertyAction({ label: 'Мои заявки', screen: 'requests' });
