// Every page of the portal loads and runs its script without console
// errors, uncaught errors, Content-Security-Policy violations or axe-core
// accessibility violations (WCAG 2 A/AA and best practices): signed
// out, as a citizen, and as a counter officer.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { axeViolations } from '../lib/axe.mjs';
import { SIGNED_IN, SITI, assertNoProblems, enrolOfficer, enrolSelf } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

/** Opens one page as `who` and fails on anything its console complained about. */
async function cleanPage(t, who, base, path, heading) {
  await t.test(`${path} loads cleanly`, async () => {
    who.problems.length = 0;
    const response = await who.page.goto(`${base}${path}`);
    assert.equal(response.status(), 200);
    assert.equal(new URL(who.page.url()).pathname, path.split('?')[0], 'no redirect');
    await who.page.waitForLoadState('networkidle');
    await who.page.getByRole('heading', { level: 1, name: heading }).waitFor();
    assertNoProblems(who);
    assert.deepEqual(await axeViolations(who.page), [], `${path}: axe-core violations`);
  });
}

test('the CSP violation detector notices a blocked resource', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const visitor = await person({ authenticator: null });
    await visitor.page.goto(`${jaga.base}/`);
    await visitor.page.waitForLoadState('networkidle');
    // img-src is 'self' and data:; another origin is refused before any request.
    await visitor.page.evaluate(() => {
      const img = document.createElement('img');
      img.src = 'http://127.0.0.1:9/blocked.png';
      document.body.append(img);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(
      visitor.problems.some((p) => p.includes('CSP violation: img-src')),
      `the violation was seen: ${JSON.stringify(visitor.problems)}`,
    );
  }));

test('every portal page loads without console errors or CSP violations', { timeout: TEST_TIMEOUT_MS }, (t) =>
  scenario(browser(), async ({ jaga, person }) => {
    // Signed out, on a phone with no passkey for Jaga yet: the virtual
    // authenticator answers /signin's autofill request with "no passkey" at
    // once (real Chromium would keep it pending), so that page shows
    // "Dibatalkan." in its status line, which is not a console error.
    const visitor = await person();
    await cleanPage(t, visitor, jaga.base, '/', 'Jaga');
    await cleanPage(t, visitor, jaga.base, '/signin', 'Masuk');
    await cleanPage(t, visitor, jaga.base, '/enrol', 'Daftar');
    await cleanPage(t, visitor, jaga.base, '/enrol/code', 'Daftar dengan kode dari loket');
    await cleanPage(t, visitor, jaga.base, '/recover', 'Pulihkan akun');
    await cleanPage(t, visitor, jaga.base, '/?lang=en', 'Jaga');
    await cleanPage(t, visitor, jaga.base, '/transparansi?lang=id', 'Laporan transparansi');
    await cleanPage(t, visitor, jaga.base, '/transparansi?lang=en', 'Transparency report');

    const citizen = await person();
    await enrolSelf(citizen, jaga.base, SITI);
    await cleanPage(t, citizen, jaga.base, '/', 'Jaga');
    assert.equal(await citizen.page.getByText(SIGNED_IN).count(), 1);
    await cleanPage(t, citizen, jaga.base, '/account/passkeys', 'Passkey saya');
    await cleanPage(t, citizen, jaga.base, '/account/sessions', 'Sesi saya');
    await cleanPage(t, citizen, jaga.base, '/account/recovery-codes', 'Kode pemulihan');
    await cleanPage(t, citizen, jaga.base, '/account/activity', 'Riwayat akses');
    await cleanPage(t, citizen, jaga.base, '/account/consents', 'Persetujuan');
    await cleanPage(t, citizen, jaga.base, '/account/data', 'Data saya');

    const officer = await person();
    await enrolOfficer(officer, jaga);
    await cleanPage(t, officer, jaga.base, '/counter', 'Loket layanan');
  }));
