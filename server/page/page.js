// The page of qwen3vl serve: plain JavaScript, no libraries, same origin only (the server's
// Content-Security-Policy allows nothing else). Every request goes to the API the page
// documents; its errors are shown as the API words them, with their status.
'use strict';

const $ = (id) => document.getElementById(id);

const state = {
  image: null,     // {blob, name}: what was dropped, pasted or chosen
  models: null,    // GET /v1/models's entry
  urls: [],        // object URLs to revoke when a new image comes
  busy: 0,         // requests in flight
  ask: null,       // the AbortController of the answer streaming
};

// apiError reads an error response of the API ({"error": {"code", "message"}}, the chat
// endpoint's OpenAI shape has both too) into "STATUS code: message".
async function apiError(resp) {
  const text = await resp.text();
  try {
    const body = JSON.parse(text);
    if (body && body.error && body.error.message) {
      return `${resp.status} ${body.error.code || body.error.type || ''}: ${body.error.message}`;
    }
  } catch (e) { /* not JSON: shown as it is */ }
  return `${resp.status} ${resp.statusText}: ${text.slice(0, 2000)}`;
}

function showError(msg) {
  const box = $('error');
  box.textContent = msg;
  box.hidden = false;
}

function clearError() {
  $('error').hidden = true;
  $('error').textContent = '';
}

function status(msg) { $('status').textContent = msg; }

function busy(delta) {
  state.busy += delta;
  document.body.dataset.busy = String(state.busy);
}

function objectURL(blob) {
  const u = URL.createObjectURL(blob);
  state.urls.push(u);
  return u;
}

// form is the multipart body of an encode-path request: the image as a file part (the API
// decodes it whatever its type) and the max_pixels field when given.
function form() {
  const fd = new FormData();
  fd.append('image', state.image.blob, state.image.name);
  const mp = $('max-pixels').value.trim();
  if (mp !== '') fd.append('max_pixels', mp);
  return fd;
}

// post sends the image to an encode-path route; it resolves to the response's blob, or throws
// the API's error message.
async function post(path, accept) {
  let resp;
  try {
    resp = await fetch(path, { method: 'POST', body: form(), headers: { Accept: accept } });
  } catch (e) {
    throw new Error(`${path}: the request failed before an answer came (${e.message})`);
  }
  if (!resp.ok) throw new Error(await apiError(resp));
  return resp.blob();
}

async function loadModels() {
  try {
    const resp = await fetch('/v1/models');
    if (!resp.ok) {
      $('model').textContent = await apiError(resp);
      setTimeout(loadModels, 1000);
      return;
    }
    const list = await resp.json();
    const m = list.data[0];
    state.models = m;
    const l = m.limits;
    $('model').textContent = `model ${m.id}` + (m.chat ? ' · chat' : '') +
      (m.id.startsWith('random:') ? ' · synthetic random weights: the features and answers are noise' : '');
    $('limits').textContent = `At most ${size(l.max_body_bytes)} a request; images resized to at most ${l.max_pixels} pixels; ` +
      `${m.preprocessor.patch_size}-px patches, ${m.preprocessor.merge_size}×${m.preprocessor.merge_size} merged into one token.`;
    $('ask').hidden = !m.chat;
    document.body.dataset.ready = '1';
  } catch (e) {
    $('model').textContent = `GET /v1/models failed: ${e.message}`;
    setTimeout(loadModels, 1000);
  }
}

function size(n) {
  for (const [s, u] of [[30, 'GiB'], [20, 'MiB'], [10, 'KiB']]) {
    if (n >= 2 ** s) return `${+(n / 2 ** s).toFixed(1)} ${u}`;
  }
  return `${n} bytes`;
}

// setImage takes a new image and draws its pictures.
function setImage(blob, name) {
  for (const u of state.urls) URL.revokeObjectURL(u);
  state.urls = [];
  state.image = { blob, name: name || 'image' };
  $('answer').textContent = '';
  $('saved').hidden = true;
  draw();
}

// showPicture shows a picture's PNG and links it for saving.
function showPicture(id, blob) {
  const u = objectURL(blob);
  $(id).src = u;
  const a = $('save-' + id);
  a.href = u;
  a.download = id + '.png';
}

async function draw() {
  clearError();
  $('result').hidden = true;
  $('explain').removeAttribute('src');
  $('features').removeAttribute('src');
  status(`${state.image.name}: drawing…`);
  busy(1);
  try {
    const [explain, features] = await Promise.all([
      post('/v1/explain.png', 'image/png'),
      post('/v1/features.png', 'image/png'),
    ]);
    showPicture('explain', explain);
    showPicture('features', features);
    $('result').hidden = false;
    status(`${state.image.name}: drawn.`);
  } catch (e) {
    status('');
    showError(e.message);
  } finally {
    busy(-1);
  }
}

async function download() {
  if (!state.image) return;
  clearError();
  busy(1);
  status('encoding…');
  try {
    const blob = await post('/v1/encode', 'application/octet-stream');
    const a = $('saved');
    a.href = objectURL(blob);
    a.download = 'features.safetensors';
    a.textContent = `features.safetensors (${size(blob.size)})`;
    a.hidden = false;
    a.click();
    status('features saved.');
  } catch (e) {
    status('');
    showError(e.message);
  } finally {
    busy(-1);
  }
}

function dataURL(blob) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(r.result);
    r.onerror = () => reject(r.error);
    r.readAsDataURL(blob);
  });
}

// ask streams the answer of the chat endpoint (server-sent events) into the page.
async function ask(ev) {
  ev.preventDefault();
  const q = $('question').value.trim() || 'What is in the picture?';
  clearError();
  const out = $('answer');
  out.textContent = '';
  $('answer-meta').textContent = '';
  const content = [];
  if (state.image) content.push({ type: 'image_url', image_url: { url: await dataURL(state.image.blob) } });
  content.push({ type: 'text', text: q });
  const body = { messages: [{ role: 'user', content }], stream: true, stream_options: { include_usage: true } };
  if (state.models && state.models.chat) body.max_tokens = Math.min(128, state.models.chat.max_tokens);
  state.ask = new AbortController();
  $('ask-button').disabled = true;
  $('stop-button').hidden = false;
  busy(1);
  document.body.dataset.answer = 'streaming';
  try {
    const resp = await fetch('/v1/chat/completions', {
      method: 'POST', signal: state.ask.signal,
      headers: { 'Content-Type': 'application/json', Accept: 'text/event-stream' },
      body: JSON.stringify(body),
    });
    if (!resp.ok) throw new Error(await apiError(resp));
    const reader = resp.body.getReader();
    const dec = new TextDecoder();
    let buf = '';
    let finish = '';
    let usage = null;
    for (;;) {
      const { value, done } = await reader.read();
      if (done) break;
      buf += dec.decode(value, { stream: true });
      let cut;
      while ((cut = buf.indexOf('\n\n')) >= 0) {
        const event = buf.slice(0, cut);
        buf = buf.slice(cut + 2);
        for (const line of event.split('\n')) {
          if (!line.startsWith('data: ')) continue;
          const data = line.slice(6);
          if (data === '[DONE]') continue;
          const chunk = JSON.parse(data);
          if (chunk.error) throw new Error(`stream: ${chunk.error.code}: ${chunk.error.message}`);
          if (chunk.usage) usage = chunk.usage;
          for (const c of chunk.choices || []) {
            if (c.delta && c.delta.content) out.textContent += c.delta.content;
            if (c.finish_reason) finish = c.finish_reason;
          }
        }
      }
    }
    let meta = `finish_reason ${finish}`;
    if (usage) meta = `${usage.completion_tokens} tokens, ${meta}; the prompt was ${usage.prompt_tokens} tokens`;
    if (out.textContent.trim() === '') meta += ' (the answer is only whitespace)';
    $('answer-meta').textContent = meta;
    document.body.dataset.answer = 'done:' + finish;
  } catch (e) {
    document.body.dataset.answer = 'error';
    if (e.name !== 'AbortError') showError(e.message);
  } finally {
    state.ask = null;
    $('ask-button').disabled = false;
    $('stop-button').hidden = true;
    busy(-1);
  }
}

// fromClipboard takes a pasted image, or pasted text: a data: URL is decoded to its bytes, any
// other text is sent as it is (the API says what it is not).
function fromClipboard(ev) {
  const dt = ev.clipboardData;
  if (!dt) return;
  if (dt.files && dt.files.length > 0) {
    ev.preventDefault();
    setImage(dt.files[0], dt.files[0].name || 'pasted image');
    return;
  }
  const text = dt.getData('text/plain');
  if (!text || ev.target === $('question') || ev.target === $('max-pixels')) return;
  ev.preventDefault();
  const m = /^data:([^;,]*)(;base64)?,/.exec(text);
  if (m && m[2]) {
    try {
      const bin = atob(text.slice(m[0].length).replace(/\s+/g, ''));
      const bytes = new Uint8Array(bin.length);
      for (let i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
      setImage(new Blob([bytes], { type: m[1] }), 'pasted data URL');
      return;
    } catch (e) { /* not base64: sent as text */ }
  }
  setImage(new Blob([text], { type: 'text/plain' }), `pasted text (${text.length} characters)`);
}

function init() {
  const drop = $('drop');
  drop.addEventListener('dragover', (ev) => { ev.preventDefault(); drop.classList.add('over'); });
  drop.addEventListener('dragleave', () => drop.classList.remove('over'));
  drop.addEventListener('drop', (ev) => {
    ev.preventDefault();
    drop.classList.remove('over');
    const f = ev.dataTransfer && ev.dataTransfer.files[0];
    if (f) setImage(f, f.name);
  });
  $('file').addEventListener('change', () => {
    const f = $('file').files[0];
    if (f) setImage(f, f.name);
  });
  document.addEventListener('paste', fromClipboard);
  $('download').addEventListener('click', download);
  $('ask-form').addEventListener('submit', ask);
  $('stop-button').addEventListener('click', () => state.ask && state.ask.abort());
  loadModels();
}

init();
