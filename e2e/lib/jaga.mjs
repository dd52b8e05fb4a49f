// Starts the real Jaga binary for one test: a temporary folder with its own
// key file and SQLite database, a free port on 127.0.0.1, and the WebAuthn
// origin http://localhost:<port> (pages must be opened there, not at
// 127.0.0.1, or the passkey ceremonies fail the origin check).

import { execFile, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = process.env.JAGA_BIN || path.join(repo, 'target', 'debug', 'jaga');

// Servers still running when the test process exits (a test that timed out
// mid-step, say) are killed rather than left behind.
const running = new Set();
process.on('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

const START_TIMEOUT_MS = 20_000;
const STOP_TIMEOUT_MS = 10_000;
const CLI_TIMEOUT_MS = 20_000;

function run(args, env) {
  return new Promise((resolve, reject) => {
    execFile(BIN, args, { env, timeout: CLI_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error) reject(new Error(`jaga ${args.join(' ')} failed: ${error.message}\n${stderr}`));
      else resolve(stdout);
    });
  });
}

/** A TCP port that was free a moment ago. */
export function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

/**
 * Starts `jaga serve` and waits until it logs that it is listening.
 * Returns { base, port, dir, cli(args), logs(), stop() }.
 */
export async function startJaga(extraEnv = {}) {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jaga-e2e-'));
  const keys = path.join(dir, 'keys', 'jaga-keys.toml');
  await run(['keys', 'init'], { PATH: process.env.PATH ?? '', JAGA_KEYS_PATH: keys });

  const port = await freePort();
  const base = `http://localhost:${port}`;
  const env = {
    PATH: process.env.PATH ?? '',
    JAGA_DATABASE_URL: `sqlite://${path.join(dir, 'jaga.db')}`,
    JAGA_KEYS_PATH: keys,
    JAGA_POLICIES_DIR: path.join(repo, 'policies'),
    JAGA_SERVER_LISTEN: `127.0.0.1:${port}`,
    JAGA_WEBAUTHN_RP_ID: 'localhost',
    JAGA_WEBAUTHN_ORIGINS: base,
    JAGA_LOG_FORMAT: 'json',
    JAGA_AUDIT_ORIGIN: 'jaga.e2e/audit',
    ...extraEnv,
  };

  const child = spawn(BIN, ['serve'], { env, cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  running.add(child);
  const lines = [];
  const exited = new Promise((resolve) =>
    child.once('exit', (code, signal) => {
      running.delete(child);
      resolve({ code, signal });
    }),
  );
  createInterface({ input: child.stderr }).on('line', (line) => lines.push(line));

  try {
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`jaga did not listen within ${START_TIMEOUT_MS} ms`)), START_TIMEOUT_MS);
      createInterface({ input: child.stdout }).on('line', (line) => {
        lines.push(line);
        try {
          if (JSON.parse(line).message === 'listening') {
            clearTimeout(timer);
            resolve();
          }
        } catch {
          // not JSON: keep it for the logs
        }
      });
      exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`jaga serve exited (${code ?? signal}) before listening`));
      });
    });
  } catch (error) {
    child.kill('SIGKILL');
    await rm(dir, { recursive: true, force: true });
    throw new Error(`${error.message}\n${lines.join('\n')}`);
  }

  let stopped = null;
  return {
    base,
    port,
    dir,
    /** Runs a one-shot command with the server's environment; returns stdout. */
    cli: (args) => run(args, env),
    /** Everything the server wrote so far. */
    logs: () => lines.join('\n'),
    /** SIGTERM, wait for the exit (SIGKILL after a grace), remove the folder. */
    stop() {
      stopped ??= (async () => {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGTERM');
          const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
          await exited;
          clearTimeout(timer);
        }
        await rm(dir, { recursive: true, force: true });
        return exited;
      })();
      return stopped;
    },
  };
}
