// Headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core)
// with a virtual WebAuthn authenticator per simulated person.

import { chromium } from 'playwright-core';

export const CHROMIUM = process.env.JAGA_CHROMIUM || '/usr/bin/chromium';

/** Timeout of each Playwright action and expectation, in milliseconds. */
export const STEP_TIMEOUT_MS = 10_000;

export function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    timeout: 30_000,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/**
 * A platform authenticator like a phone's: passkeys, user verification.
 *
 * Jaga asks for credProtect "userVerificationRequired" with
 * enforceCredentialProtectionPolicy, so Chromium refuses (NotAllowedError)
 * any authenticator that does not support the credProtect extension. The
 * DevTools virtual authenticator supports it only with hasCredBlob, which
 * needs CTAP 2.1.
 */
export const PHONE = {
  protocol: 'ctap2',
  ctap2Version: 'ctap2_1',
  transport: 'internal',
  hasResidentKey: true,
  hasUserVerification: true,
  isUserVerified: true,
  hasCredBlob: true,
  automaticPresenceSimulation: true,
};

/** A roaming security key on USB. */
export const SECURITY_KEY = { ...PHONE, transport: 'usb' };

/**
 * One simulated person: their own browser context (Bahasa Indonesia), page
 * and virtual authenticator. `problems` collects console errors, uncaught
 * page errors and CSP violations, each with the page's address.
 */
export async function newPerson(browser, { authenticator = PHONE, enableUI = false } = {}) {
  const context = await browser.newContext({ locale: 'id-ID' });
  context.setDefaultTimeout(STEP_TIMEOUT_MS);
  context.setDefaultNavigationTimeout(STEP_TIMEOUT_MS);
  // CSP violations are also reported on the console; this makes sure each
  // one is seen with its directive even where Chromium stays quiet. Scripts
  // added through the DevTools protocol are not subject to the page's CSP.
  await context.addInitScript(() => {
    document.addEventListener('securitypolicyviolation', (e) => {
      console.error(`CSP violation: ${e.violatedDirective} blocked ${e.blockedURI || '(inline)'}`);
    });
  });
  const page = await context.newPage();
  const problems = [];
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const source = message.location()?.url;
    problems.push(`${page.url()}: console error: ${message.text()}${source ? ` (${source})` : ''}`);
  });
  page.on('pageerror', (error) => problems.push(`${page.url()}: uncaught: ${error.message}`));

  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI });
  const authenticators = [];
  const person = {
    context,
    page,
    cdp,
    problems,
    authenticators,
    /** Attaches another virtual authenticator; returns its id. */
    async addAuthenticator(options = PHONE) {
      const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', { options });
      authenticators.push(authenticatorId);
      return authenticatorId;
    },
    async removeAuthenticator(id) {
      await cdp.send('WebAuthn.removeVirtualAuthenticator', { authenticatorId: id });
      authenticators.splice(authenticators.indexOf(id), 1);
    },
    /** The credentials (with private keys) held by an authenticator, the first by default. */
    async credentials(id = authenticators[0]) {
      const { credentials } = await cdp.send('WebAuthn.getCredentials', { authenticatorId: id });
      return credentials;
    },
    /** Copies credentials into an authenticator, the first by default. */
    async addCredentials(credentials, id = authenticators[0]) {
      for (const credential of credentials) {
        await cdp.send('WebAuthn.addCredential', { authenticatorId: id, credential });
      }
    },
    async close() {
      await context.close().catch(() => {});
    },
  };
  if (authenticator) await person.addAuthenticator(authenticator);
  return person;
}
