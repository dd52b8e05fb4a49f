// The security officers' console in Chromium: the menu entry, integrity
// status, a search, an event whose inclusion proof the browser itself
// checks against the signed checkpoint (and refuses when a proof or the
// checkpoint is altered on the way), and a break-glass review by another
// officer. axe-core reports no violation on any console page.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api, noViolations } from '../lib/console.mjs';
import { SITI, assertNoProblems, enrolOfficer, enrolSelf } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('a security officer searches, checks a proof in the browser, and reviews a break-glass', { timeout: TEST_TIMEOUT_MS * 2 }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const siti = await person();
    await enrolSelf(siti, jaga.base, SITI);
    const opener = await person();
    await enrolOfficer(opener, jaga, 'Petugas Keamanan Satu', 'security');
    const reviewer = await person();
    await enrolOfficer(reviewer, jaga, 'Petugas Keamanan Dua', 'security');

    // The opener uses break-glass on Siti (her pseudonym from the log).
    await opener.page.goto(`${jaga.base}/security`);
    const found = await api(opener, 'GET', '/api/security/audit?actor_kind=citizen&limit=1');
    assert.equal(found.status, 200);
    const citizen = found.body.events[0].actor.id;
    const opened = await api(opener, 'POST', '/api/break-glass',
      { citizen, justification: 'Laporan kepolisian no. 17/XII/2026: dugaan pemalsuan identitas', minutes: 15 });
    assert.equal(opened.status, 201, JSON.stringify(opened.body));

    // The console, from the menu.
    const page = reviewer.page;
    await page.goto(`${jaga.base}/`);
    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Konsol keamanan' }).click();
    await page.waitForURL(`${jaga.base}/security`);
    await page.getByRole('heading', { level: 1, name: 'Konsol keamanan' }).waitFor();
    await page.locator('#integrity-ok').waitFor();
    assert.equal(await page.locator('#waiting-count').innerText(), '1');
    await noViolations(reviewer, '/security');

    // A search: Siti's own events.
    await page.getByRole('link', { name: 'Cari log audit' }).first().click();
    await page.waitForURL(`${jaga.base}/security/audit`);
    await page.getByLabel('Jenis pelaku').selectOption('citizen');
    await page.getByLabel('Warga (pseudonim)').fill(citizen);
    await page.getByRole('button', { name: 'Cari' }).click();
    await page.waitForURL(/actor_kind=citizen/);
    const rows = page.locator('#audit-results tbody tr');
    assert.ok(await rows.count() >= 1, 'Siti\'s events are found');
    for (const actor of await rows.locator('td:nth-child(3)').allInnerTexts()) {
      assert.equal(actor, `Warga: ${citizen}`);
    }
    await noViolations(reviewer, '/security/audit with results');

    // An event: the browser checks its proof against the signed checkpoint.
    const first = rows.first().getByRole('link');
    const seq = await first.innerText();
    await first.click();
    await page.waitForURL(`${jaga.base}/security/audit/${seq}`);
    const verdict = page.locator('#proof-result');
    await page.waitForFunction(() => !document.getElementById('proof-result').textContent.includes('Memeriksa'));
    assert.match(await verdict.innerText(), new RegExp(`^Terverifikasi: kejadian ini adalah kejadian nomor ${seq} dari log bertanda tangan berisi \\d+ kejadian\\.$`));
    await noViolations(reviewer, `/security/audit/${seq}`);
    assertNoProblems(reviewer);

    // A proof altered on the way is refused by the browser…
    await page.route('**/api/security/audit/*/proof*', async (route) => {
      const response = await route.fetch();
      const proof = await response.json();
      const bytes = Buffer.from(proof.audit_path[0], 'base64');
      bytes[0] ^= 1;
      proof.audit_path[0] = bytes.toString('base64');
      await route.fulfill({ response, json: proof });
    });
    await page.reload();
    await page.waitForFunction(() => !document.getElementById('proof-result').textContent.includes('Memeriksa'));
    assert.match(await verdict.innerText(), /^TIDAK terverifikasi/);
    await page.unroute('**/api/security/audit/*/proof*');
    // …and so is a checkpoint whose root was replaced (its signature fails).
    await page.route('**/api/audit/checkpoint', async (route) => {
      const response = await route.fetch();
      const lines = (await response.text()).split('\n');
      lines[2] = Buffer.alloc(32, 7).toString('base64');
      await route.fulfill({ response, body: lines.join('\n') });
    });
    await page.reload();
    await page.waitForFunction(() => !document.getElementById('proof-result').textContent.includes('Memeriksa'));
    assert.match(await verdict.innerText(), /^TIDAK terverifikasi/);
    await page.unroute('**/api/audit/checkpoint');

    // In English too.
    await page.goto(`${jaga.base}/security/audit/${seq}?lang=en`);
    await page.waitForFunction(() => document.getElementById('proof-result').textContent.startsWith('Verified'));
    await noViolations(reviewer, `/security/audit/${seq}?lang=en`);
    await page.goto(`${jaga.base}/security?lang=id`);

    // The break-glass queue: the opener cannot review their own…
    await opener.page.goto(`${jaga.base}/security/break-glass`);
    await opener.page.getByText('Anda sendiri yang membuka akses ini').waitFor();
    assert.equal(await opener.page.locator('form.review').count(), 0);
    await noViolations(opener, '/security/break-glass (own grant)');
    // …the other officer accepts it with a note.
    await page.goto(`${jaga.base}/security/break-glass`);
    await page.getByText('Laporan kepolisian no. 17/XII/2026').waitFor();
    await noViolations(reviewer, '/security/break-glass');
    await page.getByLabel('Terima').check();
    await page.getByLabel('Catatan').fill('Sesuai laporan kepolisian; akses 15 menit wajar.');
    await page.getByRole('button', { name: 'Simpan tinjauan' }).click();
    await page.locator('#break-glass-queue .ok').getByText('Tinjauan disimpan.').waitFor();
    await page.reload();
    await page.locator('#queue-empty').waitFor();
    await noViolations(reviewer, '/security/break-glass (empty)');
    assertNoProblems(reviewer);
    assertNoProblems(opener);
  }));

test('the console is not for citizens or counter officers', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const counter = await person();
    await enrolOfficer(counter, jaga);
    await counter.page.goto(`${jaga.base}/`);
    assert.equal(await counter.page.getByRole('link', { name: 'Konsol keamanan' }).count(), 0);
    for (const path of ['/security', '/security/audit', '/security/audit/0', '/security/break-glass']) {
      const response = await counter.page.goto(`${jaga.base}${path}`);
      assert.equal(response.status(), 403, path);
      await counter.page.getByRole('heading', { level: 1 }).waitFor();
      assert.equal(await counter.page.locator('#audit-results, #proof, #break-glass-queue').count(), 0, path);
    }
    const visitor = await person({ authenticator: null });
    await visitor.page.goto(`${jaga.base}/security/audit`);
    await visitor.page.waitForURL(`${jaga.base}/signin`);
  }));
