// axe-core in the page under test: every WCAG 2.x A and AA rule and
// axe's best practices, reported as one line per violation.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const axe = require('axe-core');

/** The violations axe-core finds on the page as it is now. */
export async function axeViolations(page) {
  // Evaluated through the DevTools protocol, which the page's CSP does
  // not govern (an injected <script> would be refused, as it should be).
  await page.evaluate(axe.source);
  return page.evaluate(async () => {
    const result = await window.axe.run(document, {
      runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa', 'wcag22aa', 'best-practice'] },
      resultTypes: ['violations'],
    });
    return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(' | ')}`);
  });
}
