// The rest of the console in Chromium: an administrator adds an officer,
// who enrols on the officers' page (not the citizens' form), and recovers
// an officer who lost their phone (the old session ends, the new link
// works); a security officer sees the alert a break-glass raised, and
// records an incident with its notices. axe-core reports no violation on
// any of these pages.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { api, noViolations } from '../lib/console.mjs';
import { SITI, assertNoProblems, enrolOfficer, enrolSelf, openLinkAndCreate } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('an administrator adds an officer who enrols on the officers\' page, and recovers a lost passkey', { timeout: TEST_TIMEOUT_MS * 2 }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const admin = await person();
    await enrolOfficer(admin, jaga, 'Administrator Satu', 'admin');
    const page = admin.page;
    await page.goto(`${jaga.base}/`);
    await page.getByRole('navigation', { name: 'Menu' }).getByRole('link', { name: 'Administrasi' }).click();
    await page.waitForURL(`${jaga.base}/admin`);
    await page.getByRole('heading', { level: 1, name: 'Administrasi' }).waitFor();
    await noViolations(admin, '/admin');

    // Add an officer; the link leads to the officers' page.
    await page.getByLabel('Nama').fill('Rahmat Hidayat');
    await page.getByLabel('Unit').fill('Kecamatan Rangkui');
    await page.locator('#admin-add').getByLabel('Petugas loket').check();
    await page.getByRole('button', { name: 'Tambah dan buat tautan' }).click();
    await page.locator('#issued-link').waitFor({ state: 'visible' });
    const link = await page.locator('#issued-link-text').innerText();
    assert.ok(link.startsWith(`${jaga.base}/officer/enrol#`), link);
    await noViolations(admin, '/admin with a link');

    const rahmat = await person();
    await rahmat.page.goto(link);
    await rahmat.page.getByRole('heading', { level: 1, name: 'Pendaftaran petugas' }).waitFor();
    await noViolations(rahmat, '/officer/enrol');
    await rahmat.page.goto(`${jaga.base}/`);
    await openLinkAndCreate(rahmat, link);
    await rahmat.page.waitForURL(`${jaga.base}/`);
    await rahmat.page.getByRole('link', { name: 'Loket layanan' }).waitFor();

    // Rahmat lost his phone: the administrator recovers him.
    await page.reload();
    const officer = (await api(admin, 'GET', '/api/admin/officers')).body.find((o) => !o.you && o.status === 'active');
    assert.ok(officer, 'Rahmat is listed, active');
    page.once('dialog', (d) => d.accept());
    await page.locator(`#officer-${officer.officer}`).getByRole('button', { name: 'Pulihkan (passkey hilang)' }).click();
    await page.locator('#issued-link').waitFor({ state: 'visible' });
    const again = await page.locator('#issued-link-text').innerText();
    assert.ok(again.startsWith(`${jaga.base}/officer/enrol#`) && again !== link, again);
    await rahmat.page.goto(`${jaga.base}/account/passkeys`);
    await rahmat.page.waitForURL(/\/signin/);
    const newPhone = await person();
    await openLinkAndCreate(newPhone, again);
    await newPhone.page.waitForURL(`${jaga.base}/`);
    await newPhone.page.getByRole('link', { name: 'Loket layanan' }).waitFor();
    assertNoProblems(admin);
    assertNoProblems(newPhone);
  }));

test('a security officer sees the alert of a break-glass and records an incident', { timeout: TEST_TIMEOUT_MS * 2 }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const siti = await person();
    await enrolSelf(siti, jaga.base, SITI);
    const opener = await person();
    await enrolOfficer(opener, jaga, 'Petugas Keamanan Satu', 'security');
    const security = await person();
    await enrolOfficer(security, jaga, 'Petugas Keamanan Dua', 'security');
    await opener.page.goto(`${jaga.base}/security`);
    const found = await api(opener, 'GET', '/api/security/audit?actor_kind=citizen&limit=1');
    const citizen = found.body.events[0].actor.id;
    const opened = await api(opener, 'POST', '/api/break-glass',
      { citizen, justification: 'Laporan kepolisian no. 17/XII/2026 tentang pemalsuan', minutes: 10 });
    assert.equal(opened.status, 201);
    const grant = await api(opener, 'GET', `/api/break-glass/${opened.body.grant}`);
    assert.equal(grant.status, 200);

    // The alert, in words, on the alerts page.
    const page = security.page;
    await page.goto(`${jaga.base}/security`);
    await page.getByRole('link', { name: 'Peringatan' }).first().click();
    await page.waitForURL(`${jaga.base}/security/alerts`);
    for (let i = 0; i < 50 && !(await page.getByText('Akses darurat ke data warga').count()); i += 1) {
      await new Promise((r) => setTimeout(r, 200));
      await page.reload();
    }
    await page.getByText(`Akses darurat ke data warga ${citizen}`).waitFor();
    await noViolations(security, '/security/alerts');

    // An incident: the opener's accesses since an hour ago.
    await page.getByRole('link', { name: 'Insiden' }).first().click();
    await page.waitForURL(`${jaga.base}/security/incidents`);
    await noViolations(security, '/security/incidents');
    const wib = (d) => new Date(d.getTime() + 7 * 3600e3).toISOString().slice(0, 16);
    await page.getByLabel('Judul').fill('Akses darurat diperiksa');
    await page.getByLabel('Dari').fill(wib(new Date(Date.now() - 3600e3)));
    await page.getByLabel('Sampai').fill(wib(new Date(Date.now() + 3600e3)));
    const openerId = (await api(opener, 'GET', '/api/me')).body.account;
    await page.getByLabel('Petugas yang terlibat (pseudonim)').fill(openerId);
    await page.getByRole('button', { name: 'Catat dan cari warga terdampak' }).click();
    await page.waitForURL(/\/security\/incidents\/inc_/);
    await page.locator('#affected').getByText(citizen).waitFor();
    await noViolations(security, '/security/incidents/{id}');
    await page.getByRole('button', { name: 'Tandai lembaga sudah diberi tahu' }).click();
    await page.locator('#authority').getByText('Diberi tahu').waitFor();
    await page.getByRole('button', { name: 'Tandai semua warga sudah diberi tahu' }).click();
    await page.locator('#affected tbody tr').first().locator('td').last().getByText(/WIB$/).waitFor();
    assertNoProblems(security);
  }, { env: { JAGA_ALERTS_EVERY_SECS: '1' } }));
