// Recovery with a recovery code on a new phone.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SITI, assertNoProblems, enrolSelf, expectSignedInHome } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('a citizen who lost her phone recovers with a recovery code and a new passkey', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const oldPhone = await person();
    const codes = await enrolSelf(oldPhone, jaga.base, SITI);
    const kept = codes[3];
    await oldPhone.close();

    const newPhone = await person();
    const { page } = newPhone;
    await page.goto(`${jaga.base}/recover`);
    await page.locator('#nik').fill(SITI.nik);
    await page.locator('#recovery-code').fill(kept);
    await page.getByRole('button', { name: 'Pulihkan dan buat passkey baru' }).click();
    await expectSignedInHome(page, jaga.base);
    assert.equal((await newPhone.credentials()).length, 1, 'the new phone holds the new passkey');

    // The code is spent: nine are left, and both passkeys are listed.
    await page.goto(`${jaga.base}/account/recovery-codes`);
    assert.equal(await page.locator('#codes-left').innerText(), '9');
    await page.goto(`${jaga.base}/account/passkeys`);
    assert.equal(await page.locator('li[data-passkey]').count(), 2);
    assertNoProblems(newPhone);
  }));
