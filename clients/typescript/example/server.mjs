// @ts-check
/**
 * The example's backend, as nChat's own server would do it: it serves the page, and `POST /api/reports`
 * schedules a job with the master token (which never leaves this process) and answers the job id with
 * the job-scoped token the jobs API returned. Run by hand:
 *
 *   JOBS_URL=http://localhost:3105 JOBS_API_TOKEN=… npm run example   # then open http://localhost:3000
 *
 * The jobs API must list this page's origin in JOBS_CORS_ORIGINS.
 */

import { createServer } from 'node:http';
import { readFile } from 'node:fs/promises';
import { extname, join, normalize, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { JobQueueService } from '../dist/index.js';

const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css' };

/**
 * @param {import('node:http').ServerResponse} response
 * @param {number} status
 * @param {unknown} body
 */
function sendJson(response, status, body) {
  response.writeHead(status, { 'Content-Type': 'application/json' }).end(JSON.stringify(body));
}

/**
 * @param {string} staticDir
 * @param {string} path
 * @param {import('node:http').ServerResponse} response
 */
async function sendFile(staticDir, path, response) {
  const file = normalize(join(staticDir, path === '/' ? 'index.html' : path));
  if (!file.startsWith(staticDir + sep)) return void response.writeHead(404).end();
  try {
    const body = await readFile(file);
    const type = TYPES[/** @type {keyof typeof TYPES} */ (extname(file))] ?? 'application/octet-stream';
    response.writeHead(200, { 'Content-Type': type }).end(body);
  } catch {
    response.writeHead(404).end();
  }
}

/**
 * @param {{ port: number, jobsUrl: string, masterToken: string, staticDir: string,
 *           job?: { type: string, payload: Record<string, unknown> } }} options
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function startExampleServer({ port, jobsUrl, masterToken, staticDir, job }) {
  const jobs = new JobQueueService({ baseUrl: jobsUrl, token: masterToken });
  const report = job ?? { type: 'generate-analytics', payload: {} };
  const server = createServer((request, response) => {
    if (request.method === 'POST' && request.url === '/api/reports') {
      jobs.addJob(report.type, report.payload).then(
        (made) =>
          made.accessToken
            ? sendJson(response, 201, { jobId: made.jobId, accessToken: made.accessToken, queue: made.queueName })
            : sendJson(response, 500, { error: 'the jobs API hands out no tokens: set JOBS_API_TOKEN there' }),
        (err) => sendJson(response, 502, { error: String(err.message) }),
      );
      return;
    }
    if (request.method !== 'GET') return void response.writeHead(405).end();
    void sendFile(normalize(staticDir), new URL(request.url ?? '/', 'http://x').pathname, response);
  });
  await new Promise((done) => server.listen(port, '127.0.0.1', () => done(undefined)));
  return {
    url: `http://localhost:${port}`,
    close: () => new Promise((done) => server.close(() => done())),
  };
}

async function main() {
  const { buildExample } = await import('./build.mjs');
  const jobsUrl = process.env.JOBS_URL ?? 'http://localhost:3105';
  const masterToken = process.env.JOBS_API_TOKEN;
  if (!masterToken) throw new Error('set JOBS_API_TOKEN (the jobs API must want it, to hand out job tokens)');
  const staticDir = fileURLToPath(new URL('./dist', import.meta.url));
  await buildExample({ jobsUrl, outDir: staticDir });
  const port = Number(process.env.PORT ?? 3000);
  const { url } = await startExampleServer({ port, jobsUrl, masterToken, staticDir });
  console.log(`example on ${url} (jobs API ${jobsUrl}; it must allow this origin in JOBS_CORS_ORIGINS)`);
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  main().catch((err) => {
    console.error(String(err.message ?? err));
    process.exit(1);
  });
}
