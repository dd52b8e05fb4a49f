// Self-enrolment and signing out, in headless Chromium with a virtual
// platform authenticator.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SIGNED_IN, SITI, assertNoProblems, enrolSelf, signOut } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('a citizen enrols herself with a passkey, sees ten recovery codes and is signed in', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const siti = await person();
    const codes = await enrolSelf(siti, jaga.base, SITI);
    assert.equal(new Set(codes).size, 10, 'the recovery codes differ from each other');
    // The form is hidden once the codes are shown.
    assert.equal(await siti.page.locator('#enrol-form').isHidden(), true);
    assert.equal((await siti.credentials()).length, 1, 'one passkey on the authenticator');

    await siti.page.goto(`${jaga.base}/`);
    await siti.page.getByText(SIGNED_IN).waitFor();
    assertNoProblems(siti);
  }));

test('signing out returns to the signed-out home page and ends the session', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const siti = await person();
    await enrolSelf(siti, jaga.base, SITI);
    await siti.page.goto(`${jaga.base}/`);
    await siti.page.getByText(SIGNED_IN).waitFor();

    await signOut(siti, jaga.base);
    // The session is gone on the server too: account pages send her to sign in.
    await siti.page.goto(`${jaga.base}/account/passkeys`);
    assert.equal(new URL(siti.page.url()).pathname, '/signin');
    assertNoProblems(siti);
  }));
