// The data subject's rights in the portal: a citizen is greeted by name,
// gives and withdraws consent and restricts a purpose on "Persetujuan",
// sees each decision in plain words in the access history, and downloads
// everything Jaga holds about them as signed JSON.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertNoProblems, enrolSelf } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('a citizen decides on consents, sees it plainly, and downloads everything signed', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const siti = await person();
    await enrolSelf(siti, jaga.base);
    const page = siti.page;
    await page.goto(`${jaga.base}/`);
    await page.getByText('Halo, Siti Aminah').waitFor();

    await page.getByRole('navigation').getByRole('link', { name: 'Persetujuan' }).click();
    await page.waitForURL(`${jaga.base}/account/consents`);
    const survey = page.locator('[id="consent-survei.kepuasan"]');
    await survey.getByText('Anda belum memutuskan.').waitFor();
    await survey.getByRole('button', { name: 'Setujui' }).click();
    await survey.getByText('Berjalan', { exact: true }).waitFor();
    await survey.getByRole('link', { name: 'Unduh tanda terima (JSON)' }).waitFor();
    await survey.getByRole('button', { name: 'Tarik persetujuan' }).click();
    await survey.getByText('Tidak berjalan', { exact: true }).waitFor();

    // A purpose on another basis is not a choice, but may be restricted.
    const notices = page.locator('[id="consent-notifikasi.status"]');
    await notices.getByText('Berjalan', { exact: true }).waitFor();
    await notices.getByRole('button', { name: 'Batasi pemrosesan' }).click();
    await notices.getByText('Tidak berjalan', { exact: true }).waitFor();
    await notices.getByRole('button', { name: 'Izinkan lagi' }).waitFor();

    // The receipt of a decision verifies as a JWS the portal can fetch.
    const receipts = await page.evaluate(async () =>
      (await fetch('/api/consents/survei.kepuasan/receipts')).json());
    assert.equal(receipts.length, 2, JSON.stringify(receipts));

    // The access history says it in words.
    await page.getByRole('navigation').getByRole('link', { name: 'Riwayat akses' }).click();
    await page.getByText('Anda menarik persetujuan untuk “Survei kepuasan layanan”.').waitFor();
    await page.getByText('Anda memberi persetujuan untuk “Survei kepuasan layanan”.').waitFor();
    assert.equal(await page.getByText('consent.grant').count(), 0, 'no event codes');

    // Everything, signed.
    await page.getByRole('navigation').getByRole('link', { name: 'Data saya' }).click();
    await page.locator('#export-link').waitFor();
    const exported = await page.evaluate(async () => (await fetch('/api/profile/export')).json());
    assert.equal(exported.data.format, 'jaga-export/1');
    assert.equal(exported.data.profile.full_name, 'Siti Aminah');
    assert.equal(exported.data.consents.length, 3);
    assert.equal(exported.export.split('.').length, 3, 'a compact JWS');
    assertNoProblems(siti);
  }));
