// Managing passkeys at /account/passkeys: adding a second one and removing
// one that is not the session's own.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SECURITY_KEY } from '../lib/browser.mjs';
import { SITI, assertNoProblems, enrolSelf } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('a signed-in citizen adds a second passkey on a security key and removes it again', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const siti = await person();
    await enrolSelf(siti, jaga.base, SITI);
    const { page } = siti;
    await page.goto(`${jaga.base}/account/passkeys`);
    const cards = page.locator('li[data-passkey]');
    assert.equal(await cards.count(), 1);
    const add = page.getByRole('button', { name: 'Tambah passkey' });

    // The phone already holds a passkey for this account, and Jaga lists it
    // in excludeCredentials: the phone refuses, nothing is registered, and
    // the page says why in Bahasa Indonesia.
    let finishes = 0;
    page.on('request', (r) => {
      if (new URL(r.url()).pathname === '/api/passkeys/finish') finishes += 1;
    });
    await add.click();
    await page.locator('#status', { hasText: 'sudah menyimpan passkey' }).waitFor();
    assert.equal(finishes, 0, 'no second passkey on the same authenticator');
    assert.equal(await cards.count(), 1);

    // With a security key plugged in, the new passkey goes there.
    const key = await siti.addAuthenticator(SECURITY_KEY);
    const finished = page.waitForResponse((r) => new URL(r.url()).pathname === '/api/passkeys/finish');
    await add.click();
    assert.equal((await finished).status(), 201);
    await page.waitForURL(`${jaga.base}/account/passkeys`);
    await cards.nth(1).waitFor();
    assert.equal(await cards.count(), 2);
    assert.equal((await siti.credentials(key)).length, 1, 'the new passkey is on the security key');

    // Remove the one this session did not sign in with, confirming the dialog.
    const dialogs = [];
    page.on('dialog', (dialog) => {
      dialogs.push(dialog.message());
      dialog.accept();
    });
    const current = cards.filter({ hasText: 'dipakai sesi ini' });
    assert.equal(await current.count(), 1, 'one passkey is marked as used by this session');
    const currentId = await current.getAttribute('data-passkey');
    const other = cards.filter({ hasNotText: 'dipakai sesi ini' });
    const removed = page.waitForResponse((r) => r.request().method() === 'DELETE');
    await other.getByRole('button', { name: /^Hapus/ }).click();
    assert.equal((await removed).status(), 204);
    assert.deepEqual(dialogs, ['Hapus passkey ini?']);
    await page.waitForLoadState();
    await page.waitForFunction(() => document.querySelectorAll('li[data-passkey]').length === 1);
    assert.equal(await cards.getAttribute('data-passkey'), currentId, 'the session\'s own passkey is kept');
    assertNoProblems(siti);
  }));
