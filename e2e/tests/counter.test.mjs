// Assisted enrolment: an officer created on the command line enrols with
// the one-time link, then issues an enrolment code at /counter that a
// citizen redeems in her own browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BUDI, SIGNED_IN, SITI, assertNoProblems, enrolOfficer, enrolSelf, expectSignedInHome, redeemLink } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('an officer enrols by the CLI link, issues a code at the counter, and the citizen enrols with it', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const officer = await person();
    await enrolOfficer(officer, jaga);
    await officer.page.goto(`${jaga.base}/`);
    await officer.page.getByText(SIGNED_IN).waitFor();

    // The counter: the officer has checked Budi's KTP and issues a code.
    await officer.page.getByRole('navigation').getByRole('link', { name: 'Loket layanan' }).click();
    await officer.page.waitForURL(`${jaga.base}/counter`);
    await officer.page.locator('#c-nik').fill(BUDI.nik);
    await officer.page.locator('#c-name').fill(BUDI.name);
    await officer.page.getByRole('button', { name: 'Buat kode pendaftaran' }).click();
    const issued = officer.page.locator('#issued-code');
    await issued.waitFor({ state: 'visible' });
    assert.match(await officer.page.locator('#issued-code-text').innerText(), /\S{6,}/);
    const qr = officer.page.locator('#issued-code-qr img');
    await qr.waitFor();
    assert.ok(await qr.evaluate((img) => img.complete && img.naturalWidth > 0), 'the QR image decodes');
    const citizenLink = await officer.page.locator('#issued-code-link').getAttribute('href');
    assert.ok(citizenLink.startsWith(`${jaga.base}/enrol/code#`), citizenLink);
    assert.equal(await officer.page.locator('#issued-code-link').innerText(), citizenLink);
    assert.equal(await qr.getAttribute('alt'), citizenLink);

    // Budi, on his own phone.
    const budi = await person();
    await redeemLink(budi, citizenLink);
    await budi.page.goto(`${jaga.base}/`);
    await expectSignedInHome(budi.page, jaga.base);

    assertNoProblems(officer);
    assertNoProblems(budi);
  }));

test('a counter recovery ends the old passkey, and the citizen is told who recovered the account', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    // Siti enrolled herself on her old phone.
    const oldPhone = await person();
    await enrolSelf(oldPhone, jaga.base, SITI);

    const officer = await person();
    await enrolOfficer(officer, jaga);
    await officer.page.goto(`${jaga.base}/counter`);
    // No choice to keep the old passkeys any more; the page says what happens.
    assert.equal(await officer.page.locator('#r-revoke').count(), 0);
    await officer.page.locator('#r-nik').fill(SITI.nik);
    await officer.page.getByRole('button', { name: 'Buat kode pemulihan' }).click();
    await officer.page.locator('#issued-code').waitFor({ state: 'visible' });
    const link = await officer.page.locator('#issued-code-link').getAttribute('href');

    // Opened in the officer's own browser, the code is refused.
    await officer.page.goto(link);
    await officer.page.getByRole('button', { name: 'Buat passkey', exact: true }).click();
    await officer.page.getByText('bukan di browser yang masuk sebagai petugas').waitFor();

    // Siti's new phone redeems it and sees plainly what happened.
    const newPhone = await person();
    await redeemLink(newPhone, link);
    await newPhone.page.goto(`${jaga.base}/`);
    await newPhone.page.getByText('Akun Anda dipulihkan di loket layanan').waitFor();
    await newPhone.page.goto(`${jaga.base}/account/activity`);
    await newPhone.page.getByText('petugas layanan').first().waitFor();

    // The old phone's session has ended.
    await oldPhone.page.goto(`${jaga.base}/account/passkeys`);
    await oldPhone.page.waitForURL(/\/signin/);

    assertNoProblems(newPhone);
  }));
