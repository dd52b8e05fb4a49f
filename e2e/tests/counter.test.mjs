// Assisted enrolment: an officer created on the command line enrols with
// the one-time link, then issues an enrolment code at /counter that a
// citizen redeems in her own browser.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { BUDI, SIGNED_IN, assertNoProblems, enrolOfficer, expectSignedInHome, redeemLink } from '../lib/flows.mjs';
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
