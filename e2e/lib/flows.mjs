// Steps a person takes in the portal, written the way they would do it:
// by labels and button names in Bahasa Indonesia.

import assert from 'node:assert/strict';

export const SITI = { nik: '1971011203850001', name: 'Siti Aminah' };
export const BUDI = { nik: '1971015507900002', name: 'Budi Santoso' };

// A citizen is greeted by name ("Halo, Siti …"); an officer is told their pseudonym.
export const SIGNED_IN = /Anda masuk sebagai|Halo, /;

/** Page problems worth failing for (the missing /favicon.ico is not one). */
export function assertNoProblems(person) {
  const real = person.problems.filter((p) => !/Failed to load resource: .* 404 .*\(http:\/\/localhost:\d+\/favicon\.ico\)$/.test(p));
  assert.deepEqual(real, [], 'console errors, uncaught errors or CSP violations');
}

/** The recovery codes shown once after a registration. */
export async function shownRecoveryCodes(page) {
  await page.locator('#recovery-codes').waitFor({ state: 'visible' });
  const codes = await page.locator('#recovery-code-list li').allTextContents();
  assert.equal(codes.length, 10, `ten recovery codes, got ${JSON.stringify(codes)}`);
  for (const code of codes) assert.match(code, /\S{6,}/);
  return codes;
}

/** Waits for the home page of a signed-in person. */
export async function expectSignedInHome(page, base) {
  await page.waitForURL(`${base}/`);
  await page.getByText(SIGNED_IN).waitFor();
}

/** Self-enrolment at /enrol; returns the recovery codes shown. */
export async function enrolSelf(person, base, who = SITI) {
  const { page } = person;
  await page.goto(`${base}/enrol`);
  await page.locator('#nik').fill(who.nik);
  await page.locator('#name').fill(who.name);
  await page.getByRole('button', { name: 'Buat passkey dan daftar' }).click();
  return shownRecoveryCodes(page);
}

/** Clicks "Keluar" in the menu and waits for the signed-out home page. */
export async function signOut(person, base) {
  const { page } = person;
  const done = page.waitForResponse((r) => r.url() === `${base}/api/signout`);
  await page.getByRole('navigation').getByRole('button', { name: 'Keluar' }).click();
  assert.equal((await done).status(), 204);
  await page.waitForURL(`${base}/`);
  await page.getByRole('link', { name: 'Masuk dengan passkey' }).waitFor();
  assert.equal(await page.getByText(SIGNED_IN).count(), 0);
}

/** Collects the JSON bodies the page posts to /api/signin/start. */
export function watchSignInStarts(page) {
  const bodies = [];
  page.on('request', (request) => {
    if (request.method() === 'POST' && new URL(request.url()).pathname === '/api/signin/start') {
      bodies.push(JSON.parse(request.postData() || '{}'));
    }
  });
  return bodies;
}

/** Turns the simulated "touch" of an authenticator on or off. */
export function setPresence(person, enabled, id = person.authenticators[0]) {
  return person.cdp.send('WebAuthn.setAutomaticPresenceSimulation', { authenticatorId: id, enabled });
}

/** Opens an enrolment link, checks the code moved out of the address, creates the passkey. */
export async function openLinkAndCreate(person, link) {
  const { page } = person;
  await page.goto(link);
  const code = decodeURIComponent(new URL(link).hash.slice(1));
  assert.equal(await page.locator('#code').inputValue(), code, 'the page moves the fragment into #code');
  assert.equal(new URL(page.url()).hash, '', 'and removes it from the address bar and history');
  await page.getByRole('button', { name: 'Buat passkey', exact: true }).click();
}

/** A citizen redeems a link: the page shows their ten new recovery codes. */
export async function redeemLink(person, link) {
  await openLinkAndCreate(person, link);
  return shownRecoveryCodes(person.page);
}

/** `jaga officers add` for an officer (a counter officer unless told), then the officer redeems the printed link. */
export async function enrolOfficer(person, jaga, name = 'Petugas Loket', role = 'counter') {
  const out = await jaga.cli(['officers', 'add', '--name', name, '--unit', 'Kecamatan Rangkui', '--role', role]);
  const match = out.match(/one-time enrolment link, valid 24 hours: (\S+)/);
  assert.ok(match, `no enrolment link in:\n${out}`);
  const link = match[1];
  assert.ok(link.startsWith(`${jaga.base}/officer/enrol#`), `the officers' page on the first configured origin: ${link}`);
  // Officers get no recovery codes (recovery asks for a NIK): straight home.
  await openLinkAndCreate(person, link);
  await person.page.waitForURL(`${jaga.base}/`);
}

/**
 * "The same phone in a new browser": a new person (from the scenario's
 * `person` factory) whose authenticator holds copies of `from`'s passkeys.
 */
export async function samePhoneNewBrowser(person, from) {
  const again = await person();
  await again.addCredentials(await from.credentials());
  return again;
}
