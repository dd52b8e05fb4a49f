// Jaga portal script: passkey ceremonies and calls to Jaga's JSON API.
// No framework, no third-party code; loaded from our own origin only.
(() => {
  'use strict';

  const body = document.body;
  const text = (key) => body.dataset[key] || '';
  const statusLine = document.getElementById('status');

  function say(message, failed) {
    if (!statusLine) return;
    statusLine.textContent = message;
    statusLine.className = failed ? 'error' : '';
  }

  function csrfToken() {
    const meta = document.querySelector('meta[name="csrf-token"]');
    return meta ? meta.content : '';
  }

  class ApiError extends Error {
    constructor(status, data) {
      super((data && data.message) || text('msgFailed'));
      this.status = status;
      this.data = data;
    }
  }

  async function api(method, path, payload, rawBody) {
    const init = {
      method,
      credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken() },
    };
    if (payload !== undefined) init.body = rawBody ? payload : JSON.stringify(payload);
    const response = await fetch(path, init);
    let data = null;
    try { data = await response.json(); } catch (_) { data = null; }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  // base64url <-> bytes, for browsers without the JSON helpers.
  function fromB64url(s) {
    const b64 = s.replace(/-/g, '+').replace(/_/g, '/') + '==='.slice((s.length + 3) % 4);
    return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  }
  function toB64url(buffer) {
    const bytes = new Uint8Array(buffer);
    let s = '';
    for (const b of bytes) s += String.fromCharCode(b);
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }

  function creationOptions(json) {
    const pk = json.publicKey;
    if (PublicKeyCredential.parseCreationOptionsFromJSON) return PublicKeyCredential.parseCreationOptionsFromJSON(pk);
    return Object.assign({}, pk, {
      challenge: fromB64url(pk.challenge),
      user: Object.assign({}, pk.user, { id: fromB64url(pk.user.id) }),
      excludeCredentials: (pk.excludeCredentials || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) })),
    });
  }

  function requestOptions(json) {
    const pk = json.publicKey;
    if (PublicKeyCredential.parseRequestOptionsFromJSON) return PublicKeyCredential.parseRequestOptionsFromJSON(pk);
    return Object.assign({}, pk, {
      challenge: fromB64url(pk.challenge),
      allowCredentials: (pk.allowCredentials || []).map((c) => Object.assign({}, c, { id: fromB64url(c.id) })),
    });
  }

  function credentialJSON(cred) {
    if (typeof cred.toJSON === 'function') return cred.toJSON();
    const r = cred.response;
    const response = { clientDataJSON: toB64url(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toB64url(r.attestationObject);
      response.authenticatorData = toB64url(r.getAuthenticatorData());
      response.transports = r.getTransports ? r.getTransports() : [];
      response.publicKeyAlgorithm = r.getPublicKeyAlgorithm();
      const key = r.getPublicKey();
      if (key) response.publicKey = toB64url(key);
    } else {
      response.authenticatorData = toB64url(r.authenticatorData);
      response.signature = toB64url(r.signature);
      response.userHandle = r.userHandle ? toB64url(r.userHandle) : null;
    }
    return {
      id: cred.id,
      rawId: toB64url(cred.rawId),
      type: cred.type,
      response,
      authenticatorAttachment: cred.authenticatorAttachment || null,
      clientExtensionResults: cred.getClientExtensionResults ? cred.getClientExtensionResults() : {},
    };
  }

  function supported() {
    if (window.PublicKeyCredential && navigator.credentials) return true;
    say(text('msgUnsupported'), true);
    return false;
  }

  async function createPasskey(options) {
    const cred = await navigator.credentials.create({ publicKey: creationOptions(options) });
    return JSON.stringify(credentialJSON(cred));
  }

  function fail(error) {
    if (error instanceof ApiError && error.data && error.data.error === 'reauth_required') {
      say(error.message, true);
      window.setTimeout(() => window.location.assign('/signin'), 2500);
      return;
    }
    if (error && (error.name === 'NotAllowedError' || error.name === 'AbortError')) {
      say(text('msgCancelled'), true);
    } else if (error && error.name === 'InvalidStateError') {
      say(text('msgAlreadyRegistered'), true);
    } else if (error instanceof DOMException) {
      say(text('msgFailed'), true);
    } else {
      say(error && error.message ? error.message : text('msgFailed'), true);
    }
  }

  function showCodes(codes) {
    const section = document.getElementById('recovery-codes');
    const list = document.getElementById('recovery-code-list');
    if (!section || !list || !codes) return false;
    list.replaceChildren(...codes.map((c) => { const li = document.createElement('li'); li.textContent = c; return li; }));
    section.hidden = false;
    document.querySelectorAll('form[data-page]').forEach((f) => { f.hidden = true; });
    section.querySelector('h2').focus && section.querySelector('h2').setAttribute('tabindex', '-1');
    section.querySelector('h2').focus();
    return true;
  }

  // Runs a registration that `start` begins and `finishPath` completes;
  // then `after` (default: show new recovery codes, or go home).
  async function registerThen(start, finishPath, after) {
    if (!supported()) return;
    say(text('msgWorking'));
    try {
      const options = await start();
      const credential = await createPasskey(options);
      const result = await api('POST', finishPath || '/api/enrol/finish', credential, true);
      say(text('msgSaved'));
      if (after) after(result);
      else if (!showCodes(result && result.recovery_codes)) window.location.assign('/');
    } catch (error) { fail(error); }
  }

  function field(form, name) {
    const el = form.elements.namedItem(name);
    return el ? el.value : '';
  }

  // Which submit button sent a form: event.submitter, or the button last
  // clicked in the form where a browser lacks submitter (Safari before
  // 15.4). `null` when neither says: the caller then does nothing.
  document.addEventListener('click', (event) => {
    const button = event.target.closest && event.target.closest('button[type="submit"][value]');
    if (button && button.form) button.form.dataset.clicked = button.value;
  });
  function submitted(event, form) {
    if (event.submitter && event.submitter.value) return event.submitter.value;
    return form.dataset.clicked || null;
  }

  function onSubmit(id, handler) {
    const form = document.getElementById(id);
    if (form) form.addEventListener('submit', (event) => { event.preventDefault(); handler(form); });
  }

  onSubmit('enrol-form', (form) => registerThen(() => api('POST', '/api/enrol/start', { nik: field(form, 'nik'), name: field(form, 'name') })));

  const codeInput = document.getElementById('code');
  if (codeInput && window.location.hash.length > 1) {
    try { codeInput.value = decodeURIComponent(window.location.hash.slice(1)); } catch (_) { codeInput.value = ''; }
    history.replaceState(null, '', window.location.pathname);
  }
  onSubmit('code-form', (form) => {
    const securityKey = document.getElementById('security-key');
    const signIn = !(securityKey && securityKey.checked);
    registerThen(() => api('POST', '/api/enrol/code/start', { code: field(form, 'code'), sign_in: signIn }));
  });

  onSubmit('recover-form', (form) => registerThen(() => api('POST', '/api/recover/start', { nik: field(form, 'nik'), code: field(form, 'code') })));

  // Sign-in: autofill (conditional mediation) on load, modal on the button.
  let conditional = null;
  async function signIn(mediation) {
    const options = await api('POST', '/api/signin/start', { conditional: mediation === 'conditional' });
    const request = { publicKey: requestOptions(options) };
    if (mediation === 'conditional') {
      conditional = new AbortController();
      request.mediation = 'conditional';
      request.signal = conditional.signal;
    }
    const cred = await navigator.credentials.get(request);
    await api('POST', '/api/signin/finish', JSON.stringify(credentialJSON(cred)), true);
    window.location.assign(afterSignIn());
  }
  const signInForm = document.getElementById('signin-form');
  // Back to a module's sign-in request when one sent the person here (the
  // server only ever puts the authorization endpoint in data-next).
  function afterSignIn() {
    const next = signInForm && signInForm.dataset.next;
    return next && next.startsWith('/oauth/authorize?') ? next : '/';
  }
  if (signInForm && window.PublicKeyCredential && PublicKeyCredential.isConditionalMediationAvailable) {
    PublicKeyCredential.isConditionalMediationAvailable().then((available) => {
      // A background autofill request that ends without the person acting
      // is not worth a message; only API refusals are shown.
      if (available) signIn('conditional').catch((error) => { if (error instanceof ApiError) fail(error); });
    });
  }
  onSubmit('signin-form', async () => {
    if (!supported()) return;
    if (conditional) conditional.abort();
    say(text('msgWorking'));
    try { await signIn('required'); } catch (error) { fail(error); }
  });

  // The consent screen of a module's sign-in: the decision goes to the
  // API, which answers with the module's redirect URI.
  const authorizeForm = document.getElementById('authorize-form');
  if (authorizeForm) {
    authorizeForm.addEventListener('submit', async (event) => {
      event.preventDefault();
      const decision = submitted(event, authorizeForm);
      if (decision !== 'allow' && decision !== 'deny') return;
      const purposes = Array.from(authorizeForm.querySelectorAll('input[name="purpose"]:checked')).map((i) => i.value);
      say(text('msgWorking'));
      try {
        const result = await api('POST', '/api/oauth/decide', {
          client_id: authorizeForm.dataset.clientId,
          request_uri: authorizeForm.dataset.requestUri,
          decision,
          purposes,
        });
        window.location.assign(result.redirect);
      } catch (error) { fail(error); }
    });
  }

  // Buttons with data-action.
  const actions = {
    async signout() {
      await api('POST', '/api/signout');
      window.location.assign('/');
    },
    // Sign-out asked for by a module: then back to the page it registered
    // (the server only puts a registered address, or /, in data-then).
    async 'signout-then'(button) {
      await api('POST', '/api/signout');
      window.location.assign(button.dataset.then || '/');
    },
    async 'add-passkey'() {
      await registerThen(() => api('POST', '/api/passkeys/start'), '/api/passkeys/finish', () => window.location.reload());
    },
    async 'remove-passkey'(button) {
      if (!window.confirm(text('msgConfirmRemove'))) return;
      await api('DELETE', '/api/passkeys/' + encodeURIComponent(button.dataset.id));
      window.location.reload();
    },
    async 'end-session'(button) {
      await api('DELETE', '/api/sessions/' + encodeURIComponent(button.dataset.id));
      window.location.reload();
    },
    async 'regenerate-codes'() {
      const result = await api('POST', '/api/recovery-codes');
      showCodes(result.recovery_codes);
      const left = document.getElementById('codes-left');
      if (left) left.textContent = String(result.recovery_codes.length);
    },
    async consent(button) {
      await api('PUT', '/api/consents/' + encodeURIComponent(button.dataset.purpose), { decision: button.dataset.decision });
      window.location.reload();
    },
    async 'ward-consent'(button) {
      await api('PUT', '/api/wards/' + encodeURIComponent(button.dataset.ward) + '/consents/'
        + encodeURIComponent(button.dataset.purpose), { decision: button.dataset.decision });
      window.location.reload();
    },
    async 'open-correction'(button) {
      const opened = await api('GET', '/api/counter/corrections/' + encodeURIComponent(button.dataset.id));
      document.getElementById('correction-asked').textContent = opened.request.value;
      document.getElementById('d-request').value = opened.request.id;
      const form = document.getElementById('correction-decision-form');
      form.hidden = false;
      document.getElementById('d-reason').focus();
    },
    async 'verification-code'() {
      const result = await api('POST', '/api/verification-code');
      document.getElementById('verification-code').textContent = result.code;
      document.getElementById('verification').hidden = false;
    },
  };
  document.addEventListener('click', async (event) => {
    const button = event.target.closest('button[data-action]');
    if (!button || !actions[button.dataset.action]) return;
    event.preventDefault();
    try { await actions[button.dataset.action](button); } catch (error) { fail(error); }
  });
  document.querySelectorAll('form[data-action="rename-passkey"]').forEach((form) => {
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      try {
        await api('PATCH', '/api/passkeys/' + encodeURIComponent(form.dataset.id), { name: field(form, 'name') });
        window.location.reload();
      } catch (error) { fail(error); }
    });
  });

  // The counter.
  function showIssued(result) {
    document.getElementById('issued-code-text').textContent = result.code;
    const link = document.getElementById('issued-code-link');
    link.href = result.url;
    link.textContent = result.url;
    const img = document.createElement('img');
    img.alt = result.url;
    img.width = 240;
    img.height = 240;
    img.src = 'data:image/svg+xml;base64,' + btoa(result.qr_svg);
    document.getElementById('issued-code-qr').replaceChildren(img);
    document.getElementById('issued-code').hidden = false;
    say(text('msgSaved'));
  }
  onSubmit('counter-enrol-form', (form) =>
    api('POST', '/api/counter/enrol', { nik: field(form, 'nik'), name: field(form, 'name') }).then(showIssued, fail));
  onSubmit('counter-recover-form', (form) =>
    api('POST', '/api/counter/recover', { nik: field(form, 'nik') }).then(showIssued, fail));
  onSubmit('counter-verify-form', (form) =>
    api('POST', '/api/counter/verify', { nik: field(form, 'nik'), code: field(form, 'code') }).then(() => say(text('msgSaved')), fail));
  // A counter officer finds a citizen (masked) and changes identity fields.
  function showFound(view) {
    const list = document.getElementById('found');
    const rows = [];
    const add = (key, value) => {
      if (value === null || value === undefined) return;
      const dt = document.createElement('dt');
      dt.textContent = list.dataset['label' + key.replace(/(^|_)(\w)/g, (_, __, c) => c.toUpperCase())] || key;
      const dd = document.createElement('dd');
      dd.textContent = value;
      rows.push(dt, dd);
    };
    add('citizen', view.citizen);
    ['nik', 'kk', 'full_name', 'birth_date', 'gender', 'phone', 'email'].forEach((k) => add(k, view[k]));
    if (view.address) add('address', view.address.kabupaten_kota + ', ' + view.address.province);
    list.replaceChildren(...rows);
    list.hidden = false;
    document.getElementById('i-citizen').value = view.citizen;
    document.getElementById('counter-identity-form').hidden = false;
  }
  onSubmit('counter-find-form', (form) =>
    api('POST', '/api/counter/citizens/find', { nik: field(form, 'nik') }).then(showFound, fail));
  onSubmit('counter-identity-form', (form) => {
    const body = {};
    ['nik', 'kk', 'full_name', 'birth_place', 'birth_date', 'gender'].forEach((k) => {
      const v = field(form, k).trim();
      if (v) body[k] = v;
    });
    api('PUT', '/api/counter/citizens/' + encodeURIComponent(field(form, 'citizen')) + '/identity', body)
      .then(() => { form.reset(); say(text('msgSaved')); }, fail);
  });

  // A counter officer approves or refuses a correction request.
  const decision = document.getElementById('correction-decision-form');
  if (decision) {
    decision.addEventListener('submit', (event) => {
      event.preventDefault();
      const choice = submitted(event, decision);
      if (choice !== 'refuse' && choice !== 'approve') return;
      const reason = field(decision, 'reason').trim();
      const body = reason ? { decision: choice, reason } : { decision: choice };
      api('POST', '/api/counter/corrections/' + encodeURIComponent(field(decision, 'request')) + '/decision', body)
        .then(() => window.location.reload(), fail);
    });
  }

  // "Data saya": a correction request.
  onSubmit('correction-form', (form) =>
    api('POST', '/api/corrections', { field: field(form, 'field'), value: field(form, 'value').trim() })
      .then(() => window.location.reload(), fail));

  // "Hapus data saya": erasure, confirmed; the session ends with it.
  onSubmit('erase-form', (form) => {
    if (!form.elements.namedItem('confirm').checked) return;
    api('POST', '/api/erasure', { confirm: true, plan: form.dataset.plan }).then(() => {
      document.getElementById('erase-plan').hidden = true;
      document.getElementById('erased').hidden = false;
      say('');
    }, fail);
  });

  // "Data saya": the citizen changes contact fields (empty removes).
  onSubmit('contact-form', (form) => {
    const value = (k) => field(form, k).trim();
    const parts = ['street', 'rt_rw', 'kelurahan', 'kecamatan', 'kabupaten_kota', 'province', 'postal_code'];
    const address = {};
    parts.forEach((k) => { address[k] = value(k); });
    const body = {
      phone: value('phone') || null,
      email: value('email') || null,
      address: parts.some((k) => address[k]) ? address : null,
    };
    api('PATCH', '/api/profile', body).then(() => window.location.reload(), (error) => {
      if (error.data && error.data.error === 'nothing_to_change') say(text('msgSaved'));
      else fail(error);
    });
  });
})();
