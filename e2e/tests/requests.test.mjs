// Requests a citizen makes that someone must decide, or that cannot be
// undone: a correction request decided at the counter within 3 × 24 hours
// (the deadline shown to both), and erasure, after reading what goes and
// what the law keeps.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { assertNoProblems, enrolOfficer, enrolSelf } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('a correction is asked for, decided at the counter by its deadline, and the citizen then erases their data', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const siti = await person();
    await enrolSelf(siti, jaga.base);
    const officer = await person();
    await enrolOfficer(officer, jaga);

    // The citizen asks, and sees the deadline.
    const page = siti.page;
    await page.goto(`${jaga.base}/`);
    await page.getByRole('navigation').getByRole('link', { name: 'Data saya' }).click();
    await page.getByRole('heading', { name: 'Perbaikan data identitas' }).waitFor();
    assert.equal(await page.title(), 'Data saya · Jaga');
    await page.getByLabel('Data yang diperbaiki').selectOption('full_name');
    await page.getByLabel('Isi yang benar').fill('Siti Aminah Putri');
    await page.getByRole('button', { name: 'Minta perbaikan' }).click();
    const request = page.locator('#correction-list li', { hasText: 'Siti Aminah Putri' });
    await request.getByText('Sedang diperiksa').waitFor();
    await request.getByText('Batas waktu keputusan').waitFor();
    const due = (await request.locator('.due').innerText()).trim();
    assert.match(due, /^\d{4}-\d{2}-\d{2} \d{2}:\d{2} WIB$/);
    assertNoProblems(siti);

    // The counter officer sees the same deadline, opens it, approves.
    await officer.page.goto(`${jaga.base}/counter`);
    const row = officer.page.locator('#correction-queue tbody tr').first();
    assert.equal((await row.locator('.due').innerText()).trim(), due, 'the same deadline on both sides');
    await row.getByRole('button', { name: 'Buka' }).click();
    await officer.page.locator('#correction-asked', { hasText: 'Siti Aminah Putri' }).waitFor();
    await officer.page.getByRole('button', { name: 'Setujui perbaikan' }).click();
    await officer.page.getByText('Tidak ada permintaan yang menunggu.').waitFor();
    assertNoProblems(officer);

    // The citizen sees it done, in their data and their history.
    await page.reload();
    await page.locator('#correction-list li', { hasText: 'Disetujui' }).waitFor();
    await page.locator('#identity').getByText('Siti Aminah Putri').waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Riwayat akses' }).click();
    await page.getByText(/menyetujui perbaikan nama lengkap Anda/).first().waitFor();

    // A refusal comes with a reason the citizen reads.
    await page.getByRole('navigation').getByRole('link', { name: 'Data saya' }).click();
    await page.getByLabel('Data yang diperbaiki').selectOption('birth_place');
    await page.getByLabel('Isi yang benar').fill('Sungailiat');
    await page.getByRole('button', { name: 'Minta perbaikan' }).click();
    await page.locator('#correction-list li', { hasText: 'Sungailiat' }).getByText('Sedang diperiksa').waitFor();
    await officer.page.reload();
    await officer.page.getByRole('button', { name: 'Buka' }).click();
    await officer.page.locator('#correction-asked', { hasText: 'Sungailiat' }).waitFor();
    await officer.page.getByRole('button', { name: 'Tolak' }).click();
    await officer.page.locator('#status.error').waitFor();
    assert.match(await officer.page.locator('#status').innerText(), /alasan/, 'a refusal needs a reason');
    await officer.page.getByLabel(/^Alasan/).fill('Tempat lahir di KK Anda tetap Pangkalpinang.');
    await officer.page.getByRole('button', { name: 'Tolak' }).click();
    await officer.page.getByText('Tidak ada permintaan yang menunggu.').waitFor();
    await page.reload();
    const refused = page.locator('#correction-list li', { hasText: 'Sungailiat' });
    await refused.getByText('Ditolak').waitFor();
    await refused.getByText('Alasan petugas: Tempat lahir di KK Anda tetap Pangkalpinang.').waitFor();

    // Erasure: read first, confirm, done; the account is gone.
    await page.getByRole('navigation').getByRole('link', { name: 'Data saya' }).click();
    await page.getByRole('link', { name: 'Hapus data saya…' }).click();
    await page.waitForURL(`${jaga.base}/account/erase`);
    await page.getByText('Tidak ada data Anda yang wajib disimpan menurut hukum: semua data pribadi Anda dihapus.').waitFor();
    await page.locator('#erase-goes').getByText('nama lengkap').waitFor();
    await page.getByLabel('Saya mengerti bahwa penghapusan ini tidak dapat dibatalkan.').check();
    await page.getByRole('button', { name: 'Hapus data saya sekarang' }).click();
    await page.getByText('Data Anda telah dihapus. Anda sudah keluar dari Jaga.').waitFor();
    assertNoProblems(siti);
    const me = await page.evaluate(async () => (await fetch('/api/me')).status);
    assert.equal(me, 401, 'signed out: the account ended');
  }));
