// Signing in with a passkey: by the button (modal request) and by autofill
// (conditional mediation), in headless Chromium with a virtual platform
// authenticator.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import {
  SITI,
  assertNoProblems,
  enrolSelf,
  expectSignedInHome,
  samePhoneNewBrowser,
  setPresence,
  signOut,
  watchSignInStarts,
} from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();

test('a signed-out citizen signs in with the button "Masuk dengan passkey"', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const siti = await person();
    await enrolSelf(siti, jaga.base, SITI);
    await siti.page.goto(`${jaga.base}/`);
    await signOut(siti, jaga.base);

    // /signin starts an autofill (conditional) request on load. A virtual
    // authenticator without a UI would answer it at once, so its "touch" is
    // held back: the autofill request stays pending, as when a person
    // ignores the suggestion, and the button must abort it and start its
    // own. The touch comes back only once the button's request has begun
    // (its /api/signin/start is held until then), so the autofill request
    // cannot be the one that signs her in.
    await setPresence(siti, false);
    await siti.page.route(`${jaga.base}/api/signin/start`, async (route) => {
      if (JSON.parse(route.request().postData() || '{}').conditional === false) await setPresence(siti, true);
      await route.continue();
    });
    const starts = watchSignInStarts(siti.page);
    const conditionalStarted = siti.page.waitForResponse(
      (r) => r.url() === `${jaga.base}/api/signin/start` && r.request().postData() === '{"conditional":true}',
    );
    await siti.page.goto(`${jaga.base}/signin`);
    await conditionalStarted;
    // Let the page hand the autofill request to the browser.
    await siti.page.waitForTimeout(300);
    assert.equal(new URL(siti.page.url()).pathname, '/signin');

    await siti.page.getByRole('button', { name: 'Masuk dengan passkey' }).click();
    await expectSignedInHome(siti.page, jaga.base);
    assert.deepEqual(starts, [{ conditional: true }, { conditional: false }]);
    assertNoProblems(siti);
  }));

// What could not be automated: choosing the passkey in Chromium's autofill
// dropdown. With the DevTools virtual authenticator and its UI disabled
// (WebAuthn.enable without enableUI), Chromium dispatches a conditional
// request straight to the virtual authenticator and picks the first
// matching passkey itself (ChromeAuthenticatorRequestDelegate::SelectAccount:
// "The browser is being automated. Select the first credential"), so no
// dropdown is shown or needed. With enableUI: true, headless Chromium shows
// no dropdown that focus, clicks or ArrowDown + Enter on #account can reach:
// Enter then submits the form (a modal request), which waits on a dialog
// headless Chromium cannot show. This test therefore proves the page's
// conditional path end to end (request with mediation "conditional", finish,
// session, redirect) without the button, but not the dropdown itself.
test('a citizen in a new browser on the same phone signs in through passkey autofill (conditional mediation)', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const firstBrowser = await person();
    await enrolSelf(firstBrowser, jaga.base, SITI);
    // A new browser: no cookie, but the phone still holds her passkey.
    const siti = await samePhoneNewBrowser(person, firstBrowser);
    await firstBrowser.close();
    assert.equal((await siti.credentials()).length, 1);

    // The field autofill attaches to (read from the served page, since the
    // browser leaves /signin as soon as the autofill request succeeds).
    const html = await (await fetch(`http://127.0.0.1:${jaga.port}/signin`)).text();
    assert.match(html, /<input id="account"[^>]* autocomplete="username webauthn"/);

    const starts = watchSignInStarts(siti.page);
    await siti.page.goto(`${jaga.base}/signin`);
    await expectSignedInHome(siti.page, jaga.base);
    // Only the autofill request ran: the button was never used.
    assert.deepEqual(starts, [{ conditional: true }]);
    assertNoProblems(siti);
  }));
