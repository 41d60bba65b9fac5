// modemsim hub console: refresh the server-rendered sections and stream
// telemetry from the admin API (Server-Sent Events). No framework, no CDN.
'use strict';

const REFRESH_MS = 1000;
const MAX_TELEMETRY = 100;

// refresh replaces a section with its fragment, unless the user has an
// attempt opened in it.
async function refresh(section) {
  if (section.querySelector('details[open]')) return;
  try {
    const res = await fetch('/ui/fragments/' + section.dataset.fragment, { cache: 'no-store' });
    if (res.ok) section.innerHTML = await res.text();
  } catch (e) {
    // the emulator stopped: keep the last view
  }
}

function telemetry() {
  const list = document.getElementById('telemetry');
  if (!list || !window.EventSource) return;
  const es = new EventSource('/telemetry');
  es.addEventListener('telemetry', (ev) => {
    const m = JSON.parse(ev.data);
    const li = document.createElement('li');
    li.dataset.device = m.deviceId;
    const props = m.properties && Object.keys(m.properties).length ? ' ' + JSON.stringify(m.properties) : '';
    li.textContent = `${m.received} ${m.deviceId} ${m.text !== undefined ? m.text : '(binary, ' + atob(m.payload || '').length + ' bytes)'}${props}`;
    list.prepend(li);
    while (list.children.length > MAX_TELEMETRY) list.lastChild.remove();
  });
}

document.addEventListener('DOMContentLoaded', () => {
  const sections = document.querySelectorAll('[data-fragment]');
  setInterval(() => sections.forEach(refresh), REFRESH_MS);
  telemetry();
});
