// "Data saya": a citizen sees their own data and changes contact fields;
// a counter officer finds them by NIK (masked) and sets identity fields,
// which the citizen then sees.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SIGNED_IN, SITI, assertNoProblems, enrolOfficer, enrolSelf } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('a citizen edits contact data on "Data saya" and an officer sets identity data at the counter', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const siti = await person();
    await enrolSelf(siti, jaga.base);
    const page = siti.page;
    await page.goto(`${jaga.base}/`);
    await page.getByText(SIGNED_IN).waitFor();
    await page.getByRole('navigation').getByRole('link', { name: 'Data saya' }).click();
    await page.waitForURL(`${jaga.base}/account/data`);
    const identity = page.locator('#identity');
    assert.match(await identity.innerText(), new RegExp(SITI.nik));
    assert.match(await identity.innerText(), /Siti Aminah/);

    // A wrong number is refused, naming the field; nothing is saved.
    await page.getByLabel('Nomor HP').fill('12345');
    await page.getByRole('button', { name: 'Simpan' }).click();
    await page.locator('#status.error').waitFor();
    assert.match(await page.locator('#status').innerText(), /phone/);

    await page.getByLabel('Nomor HP').fill('0812 3456 5678');
    await page.getByLabel('Email').fill('siti@example.go.id');
    await page.getByLabel('Jalan').fill('Jl. Merdeka No. 10');
    await page.getByLabel('RT/RW').fill('3/5');
    await page.getByLabel('Kelurahan/Desa').fill('Rangkui');
    await page.getByLabel('Kecamatan').fill('Rangkui');
    await page.getByLabel('Kabupaten/Kota').fill('Kota Pangkalpinang');
    await page.getByLabel('Provinsi').fill('Kepulauan Bangka Belitung');
    await page.getByLabel('Kode pos').fill('33135');
    const saved = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/profile' && r.request().method() === 'PATCH');
    const reloaded = page.waitForEvent('load');
    await page.getByRole('button', { name: 'Simpan' }).click();
    assert.equal((await saved).status(), 204);
    await reloaded;
    assert.equal(await page.getByLabel('Nomor HP').inputValue(), '+6281234565678');
    assert.equal(await page.getByLabel('RT/RW').inputValue(), '003/005');

    // The officer finds Siti by NIK, sees her masked, and records her KK.
    const officer = await person();
    await enrolOfficer(officer, jaga);
    const desk = officer.page;
    await desk.goto(`${jaga.base}/counter`);
    await desk.locator('#f-nik').fill(SITI.nik);
    await desk.getByRole('button', { name: 'Cari', exact: true }).click();
    const found = desk.locator('#found');
    await found.waitFor({ state: 'visible' });
    const shown = await found.innerText();
    assert.match(shown, /1971\*{8}0001/);
    assert.match(shown, /\+62812\*{4}5678/);
    assert.match(shown, /S\. A\./);
    assert.doesNotMatch(shown, /Siti Aminah|siti@example/);
    await desk.locator('#counter-identity-form').waitFor({ state: 'visible' });
    await desk.locator('#i-kk').fill('1971010101200001');
    await desk.locator('#i-birth-place').fill('Pangkalpinang');
    const set = desk.waitForResponse((r) => /\/identity$/.test(new URL(r.url()).pathname));
    await desk.getByRole('button', { name: 'Simpan data identitas' }).click();
    assert.equal((await set).status(), 200);

    await page.reload();
    const after = await page.locator('#identity').innerText();
    assert.match(after, /1971010101200001/);
    assert.match(after, /Pangkalpinang/);

    // The refused number above is the one failed request the page made.
    siti.problems = siti.problems.filter((p) => !/status of 400 \(Bad Request\)/.test(p));
    assertNoProblems(siti);
    assertNoProblems(officer);
  }));
