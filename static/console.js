// Jaga security console: checks an audit event's inclusion proof in the
// browser (RFC 9162 §2.1.3.2) against the signed checkpoint (C2SP signed
// note, Ed25519), and sends break-glass reviews. No framework, no
// third-party code; loaded from our own origin only.
(() => {
  'use strict';

  const enc = new TextEncoder();

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  function say(message, failed) {
    const line = document.getElementById('status');
    if (!line) return;
    line.textContent = message;
    line.className = failed ? 'error' : '';
  }

  // --- bytes -----------------------------------------------------------

  function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) { out.set(p, at); at += p.length; }
    return out;
  }
  function fromB64(s) { return Uint8Array.from(atob(s), (c) => c.charCodeAt(0)); }
  function equal(a, b) { return a.length === b.length && a.every((x, i) => x === b[i]); }
  function u32(n) { const b = new Uint8Array(4); new DataView(b.buffer).setUint32(0, n); return b; }
  function u64(n) { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, BigInt(n)); return b; }
  function i64(n) { const b = new Uint8Array(8); new DataView(b.buffer).setBigInt64(0, BigInt(n)); return b; }
  function str(s) { const b = enc.encode(s); return concat(u32(b.length), b); }
  function opt(s) { return s === null || s === undefined ? new Uint8Array([0]) : concat(new Uint8Array([1]), str(s)); }

  async function sha256(bytes) { return new Uint8Array(await crypto.subtle.digest('SHA-256', bytes)); }
  const leafHash = (data) => sha256(concat(new Uint8Array([0]), data));
  const nodeHash = (l, r) => sha256(concat(new Uint8Array([1]), l, r));

  // The event's canonical bytes, as the server's Recorded::canonical_bytes
  // writes them (version 1 without policies, 2 with).
  function canonical(e) {
    const parts = [
      new Uint8Array([e.policies.length ? 2 : 1]), u64(e.seq), i64(e.time_us),
      str(e.actor_kind), str(e.actor_id), str(e.action), str(e.target_kind), opt(e.target_id),
      u32(e.target_fields.length), ...e.target_fields.map(str),
      opt(e.purpose), str(e.outcome), opt(e.reason), opt(e.request_id), opt(e.source),
    ];
    if (e.policies.length) parts.push(u32(e.policies.length), ...e.policies.map(str));
    return concat(...parts);
  }

  async function verifyInclusion(index, size, leaf, path, root) {
    let fn = BigInt(index);
    let sn = BigInt(size) - 1n;
    if (fn > sn) return false;
    let r = leaf;
    for (const p of path) {
      if (sn === 0n) return false;
      if ((fn & 1n) === 1n || fn === sn) {
        r = await nodeHash(p, r);
        while ((fn & 1n) === 0n && fn !== 0n) { fn >>= 1n; sn >>= 1n; }
      } else {
        r = await nodeHash(r, p);
      }
      fn >>= 1n;
      sn >>= 1n;
    }
    return sn === 0n && equal(r, root);
  }

  // --- signed notes ------------------------------------------------------

  class Unsupported extends Error {}

  // name+hexid+base64(0x01 ‖ key); the base64 may itself hold '+'.
  function parseVerifierKey(text) {
    const first = text.indexOf('+');
    const second = text.indexOf('+', first + 1);
    if (first < 1 || second < 0) throw new Error('verifier key');
    const name = text.slice(0, first);
    const id = text.slice(first + 1, second);
    const raw = fromB64(text.slice(second + 1));
    if (!name || !id || raw.length !== 33 || raw[0] !== 1) throw new Error('verifier key');
    return { name, key: raw.slice(1) };
  }

  async function keyId(name, key) {
    return (await sha256(concat(enc.encode(name), new Uint8Array([0x0a, 0x01]), key))).slice(0, 4);
  }

  // The checkpoint if `vkey` signed it under its own name, else null.
  async function openNote(note, vkey) {
    const split = note.indexOf('\n\n');
    if (split < 0) return null;
    const body = note.slice(0, split + 1);
    const [origin, size, root] = body.split('\n');
    if (origin !== vkey.name || !/^(0|[1-9][0-9]*)$/.test(size)) return null;
    let key;
    try {
      key = await crypto.subtle.importKey('raw', vkey.key, { name: 'Ed25519' }, false, ['verify']);
    } catch (_) {
      throw new Unsupported();
    }
    const id = await keyId(vkey.name, vkey.key);
    for (const line of note.slice(split + 2).split('\n')) {
      const m = /^\u2014 (\S+) (\S+)$/.exec(line);
      if (!m || m[1] !== vkey.name) continue;
      const blob = fromB64(m[2]);
      if (blob.length !== 68 || !equal(blob.slice(0, 4), id)) continue;
      if (await crypto.subtle.verify({ name: 'Ed25519' }, key, blob.slice(4), enc.encode(body))) {
        return { origin, size: Number(size), root: fromB64(root) };
      }
    }
    return null;
  }

  // --- the event page ------------------------------------------------------

  async function checkProof(section) {
    const out = document.getElementById('proof-result');
    const d = section.dataset;
    const show = (message, cls) => { out.textContent = message; out.className = cls; };
    try {
      if (!window.crypto || !crypto.subtle) throw new Unsupported();
      const event = JSON.parse(d.event);
      const vkey = parseVerifierKey(d.key);
      const noteResponse = await fetch('/api/audit/checkpoint', { credentials: 'same-origin' });
      const cp = noteResponse.ok ? await openNote(await noteResponse.text(), vkey) : null;
      if (!cp) { show(d.msgBad, 'alert'); return; }
      const response = await fetch(`/api/security/audit/${event.seq}/proof?size=${cp.size}`, { credentials: 'same-origin' });
      const proof = await response.json().catch(() => null);
      if (!response.ok) { show((proof && proof.message) || d.msgBad, 'alert'); return; }
      const leaf = await leafHash(canonical(event));
      const ok = proof.tree_size === cp.size && proof.leaf_index === event.seq
        && await verifyInclusion(event.seq, cp.size, leaf, proof.audit_path.map(fromB64), cp.root);
      if (ok) show(d.msgOk.replace('{seq}', event.seq).replace('{size}', cp.size), 'ok');
      else show(d.msgBad, 'alert');
    } catch (e) {
      show(e instanceof Unsupported ? d.msgUnsupported : d.msgBad, 'alert');
    }
  }

  // --- the break-glass queue -------------------------------------------------

  function wireReview(form, reviewed) {
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const data = new FormData(form);
      const response = await fetch(`/api/security/break-glass/${encodeURIComponent(form.dataset.grant)}/review`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() },
        body: JSON.stringify({ decision: data.get('decision'), note: data.get('note') }),
      });
      if (response.status === 204) {
        const done = document.createElement('p');
        done.className = 'ok';
        done.textContent = reviewed;
        form.replaceWith(done);
        say(reviewed, false);
        return;
      }
      const problem = await response.json().catch(() => null);
      say((problem && problem.message) || response.statusText, true);
    });
  }

  // --- alerts: a dead letter sent again ------------------------------------

  function wireRedeliver(button, done) {
    button.addEventListener('click', async () => {
      const response = await fetch(`/api/security/alerts/${encodeURIComponent(button.dataset.redeliver)}/redeliver`, {
        method: 'POST',
        credentials: 'same-origin',
        headers: { 'x-csrf-token': csrfToken() },
      });
      if (response.status === 204) {
        const note = document.createElement('p');
        note.className = 'ok';
        note.textContent = done;
        button.replaceWith(note);
        say(done, false);
        return;
      }
      const problem = await response.json().catch(() => null);
      say((problem && problem.message) || response.statusText, true);
    });
  }

  // --- administration ----------------------------------------------------------

  async function send(method, path, payload) {
    const init = { method, credentials: 'same-origin', headers: { 'x-csrf-token': csrfToken() } };
    if (payload !== undefined) {
      init.headers['content-type'] = 'application/json';
      init.body = JSON.stringify(payload);
    }
    const response = await fetch(path, init);
    const data = await response.json().catch(() => null);
    if (!response.ok) throw new Error((data && data.message) || response.statusText);
    return data;
  }

  function showLink(section, link) {
    document.getElementById('issued-link-intro').textContent = section.dataset.msgLink;
    document.getElementById('issued-link-text').textContent = link;
    document.getElementById('issued-link').hidden = false;
  }

  function wireAdmin(section) {
    const d = section.dataset;
    const officer = (o) => `/api/admin/officers/${encodeURIComponent(o)}`;
    const act = (work) => work().then(() => say(d.msgDone, false), (e) => say(e.message, true));
    for (const form of document.querySelectorAll('form.admin-roles')) {
      form.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const roles = [...form.querySelectorAll('input[name="role"]:checked')].map((i) => i.value);
        act(() => send('PUT', `${officer(form.dataset.officer)}/roles`, { roles }));
      });
    }
    for (const button of document.querySelectorAll('button[data-admin]')) {
      button.addEventListener('click', () => {
        const kind = button.dataset.admin;
        if (kind === 'suspend' && window.confirm(d.msgConfirmSuspend)) {
          act(() => send('POST', `${officer(button.dataset.officer)}/suspend`).then(() => button.remove()));
        } else if (kind === 'recover' && window.confirm(d.msgConfirmRecover)) {
          act(() => send('POST', `${officer(button.dataset.officer)}/recover`).then((r) => showLink(section, r.link)));
        } else if (kind === 'disable' && window.confirm(d.msgConfirmDisable)) {
          act(() => send('POST', `/api/admin/modules/${encodeURIComponent(button.dataset.module)}/disable`).then(() => button.remove()));
        }
      });
    }
    const add = document.getElementById('admin-add');
    if (add) {
      add.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const data = new FormData(add);
        const payload = { name: data.get('name'), unit: data.get('unit'), roles: data.getAll('role') };
        act(() => send('POST', '/api/admin/officers', payload).then((r) => showLink(section, r.link)));
      });
    }
  }

  // --- incidents -------------------------------------------------------------------

  // A datetime-local value is a WIB time.
  const wib = (v) => (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}$/.test(v) ? `${v}:00+07:00` : v);
  const names = (v) => String(v || '').split(/[\s,]+/).filter(Boolean);

  function wireIncidents() {
    const open = document.getElementById('incident-open');
    if (open) {
      open.addEventListener('submit', (ev) => {
        ev.preventDefault();
        const f = new FormData(open);
        const payload = {
          title: f.get('title'), from: wib(f.get('from')), to: wib(f.get('to')),
          officers: names(f.get('officers')), modules: names(f.get('modules')),
        };
        send('POST', '/api/security/incidents', payload).then(
          (r) => window.location.assign(`/security/incidents/${encodeURIComponent(r.id)}`),
          (e) => say(e.message, true),
        );
      });
    }
    const incident = document.getElementById('incident');
    if (!incident) return;
    for (const button of incident.querySelectorAll('button[data-notice]')) {
      button.addEventListener('click', () => {
        const body = button.dataset.notice === 'authority' ? { authority: true } : { all: true };
        send('POST', `/api/security/incidents/${encodeURIComponent(incident.dataset.incident)}/notices`, body).then(
          () => window.location.reload(),
          (e) => say(e.message, true),
        );
      });
    }
  }

  wireIncidents();
  const proof = document.getElementById('proof');
  if (proof) checkProof(proof);
  const queue = document.getElementById('break-glass-queue');
  if (queue) for (const form of queue.querySelectorAll('form.review')) wireReview(form, queue.dataset.msgReviewed);
  const officers = document.getElementById('officers');
  if (officers) wireAdmin(officers);
  const alerts = document.getElementById('alerts');
  if (alerts) for (const b of alerts.querySelectorAll('button[data-redeliver]')) wireRedeliver(b, alerts.dataset.msgRedelivered);
})();
