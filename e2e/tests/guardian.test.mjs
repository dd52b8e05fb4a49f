// Children and guardians in the portal: a child cannot give consent
// alone; once a counter officer links their guardian (after checking the
// family card), the guardian decides for them from their own
// "Persetujuan" page, and the child sees the decision in force.

import assert from 'node:assert/strict';
import { test } from 'node:test';

import { SITI, assertNoProblems, enrolOfficer, enrolSelf } from '../lib/flows.mjs';
import { TEST_TIMEOUT_MS, scenario, sharedBrowser } from '../lib/harness.mjs';

const browser = sharedBrowser();
// Born 5 August 2016: under 18 until 2034.
const ANI = { nik: '1971014508160003', name: 'Ani Lestari' };

test('a guardian decides for a child from their own portal', { timeout: TEST_TIMEOUT_MS }, () =>
  scenario(browser(), async ({ jaga, person }) => {
    const child = await person();
    await enrolSelf(child, jaga.base, ANI);
    const guardian = await person();
    await enrolSelf(guardian, jaga.base, SITI);
    const officer = await person();
    await enrolOfficer(officer, jaga);

    // Alone, the child's grant is refused, saying why.
    await child.page.goto(`${jaga.base}/account/consents`);
    const own = child.page.locator('[id="consent-survei.kepuasan"]');
    await own.getByRole('button', { name: 'Setujui' }).click();
    await child.page.locator('#status.error').waitFor();
    assert.match(await child.page.locator('#status').innerText(), /wali/);

    // The counter officer records the family card of both (after checking
    // it) and links them.
    await officer.page.goto(`${jaga.base}/counter`);
    const linked = await officer.page.evaluate(async ([childNik, guardianNik, kk]) => {
      const csrf = document.querySelector('meta[name="csrf-token"]').content;
      const call = (method, path, body) => fetch(path, {
        method,
        headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
        body: JSON.stringify(body),
      });
      for (const nik of [childNik, guardianNik]) {
        const found = await (await call('POST', '/api/counter/citizens/find', { nik })).json();
        const set = await call('PUT', `/api/counter/citizens/${found.citizen}/identity`, { kk });
        if (set.status !== 200) return set.status;
      }
      return (await call('POST', '/api/counter/guardians', { child_nik: childNik, guardian_nik: guardianNik })).status;
    }, [ANI.nik, SITI.nik, '1971012001150001']);
    assert.equal(linked, 204);

    // The guardian decides on their own page.
    await guardian.page.goto(`${jaga.base}/account/consents`);
    const wards = guardian.page.locator('#wards');
    await wards.getByRole('heading', { name: 'Anak dalam perwalian Anda' }).waitFor();
    const survey = wards.locator('li', { hasText: 'Survei kepuasan layanan' });
    await survey.getByRole('button', { name: 'Setujui' }).click();
    await guardian.page.locator('#wards li', { hasText: 'Survei kepuasan layanan' })
      .getByText('Berjalan', { exact: true }).waitFor();
    assertNoProblems(guardian);

    // The child sees it in force.
    await child.page.goto(`${jaga.base}/account/consents`);
    await child.page.locator('[id="consent-survei.kepuasan"]').getByText('Berjalan', { exact: true }).waitFor();
  }));
