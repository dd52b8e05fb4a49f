// Helpers of the console suites: axe-core over the page as it is now, and
// a JSON API call made from a signed-in person's page.

import assert from 'node:assert/strict';

import { axeViolations } from './axe.mjs';

/** Fails with every axe-core violation on `who`'s page. */
export async function noViolations(who, what) {
  assert.deepEqual(await axeViolations(who.page), [], `${what}: axe-core violations`);
}

/** A JSON API call from `who`'s page (same origin, session cookie, CSRF header). */
export function api(who, method, path, body) {
  return who.page.evaluate(async ([method, path, body]) => {
    const csrf = document.querySelector('meta[name="csrf-token"]').content;
    const r = await fetch(path, {
      method, credentials: 'same-origin',
      headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: r.status, body: await r.json().catch(() => null) };
  }, [method, path, body]);
}
