// One scenario = one fresh Jaga server and any number of simulated people
// in a shared headless Chromium; everything is closed afterwards, and a
// failure carries the server's log and what the pages complained about.

import assert from 'node:assert/strict';
import { after, before } from 'node:test';

import { launchBrowser, newPerson } from './browser.mjs';
import { startJaga } from './jaga.mjs';

/** Per test; Playwright steps time out well before (see STEP_TIMEOUT_MS). */
export const TEST_TIMEOUT_MS = 60_000;

/** Launches one browser for the test file; returns a getter. */
export function sharedBrowser() {
  let browser = null;
  before(async () => {
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
  });
  return () => {
    assert.ok(browser, 'the browser is not running');
    return browser;
  };
}

/**
 * Runs `body({ jaga, person })` against a fresh server (with `env` added
 * to its environment); `person(options)` opens a new simulated person
 * (see newPerson).
 */
export async function scenario(browser, body, { env = {} } = {}) {
  const jaga = await startJaga(env);
  const people = [];
  const person = async (options) => {
    const p = await newPerson(browser, options);
    people.push(p);
    return p;
  };
  try {
    await body({ jaga, person });
  } catch (error) {
    const complaints = people.flatMap((p) => p.problems);
    const log = jaga.logs().split('\n').slice(-40).join('\n');
    error.message += `\n--- page problems ---\n${complaints.join('\n') || '(none)'}\n--- jaga log (last 40 lines) ---\n${log}`;
    throw error;
  } finally {
    await Promise.all(people.map((p) => p.close()));
    await jaga.stop();
  }
}
