// @ts-check
/**
 * Bundles the example page with Vite: `@nchat/jobs-client` is the package's own build (dist/), and
 * `process.env.NEXT_PUBLIC_JOBS_URL` is written into the bundle, as Next.js does with NEXT_PUBLIC_*.
 */

import { fileURLToPath } from 'node:url';

import { build } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const dist = fileURLToPath(new URL('../dist/', import.meta.url));

/**
 * @param {{ jobsUrl: string, outDir: string }} options
 * @returns {Promise<void>}
 */
export async function buildExample({ jobsUrl, outDir }) {
  await build({
    root: here,
    configFile: false,
    logLevel: 'warn',
    define: { 'process.env.NEXT_PUBLIC_JOBS_URL': JSON.stringify(jobsUrl) },
    resolve: {
      alias: [
        { find: /^@nchat\/jobs-client\/react$/, replacement: `${dist}react/index.js` },
        { find: /^@nchat\/jobs-client$/, replacement: `${dist}index.js` },
      ],
    },
    build: {
      outDir,
      emptyOutDir: true,
      minify: false,
      rollupOptions: {
        // "use client" marks the React entry for server-component bundlers; a page bundle drops it.
        onwarn(warning, warn) {
          if (warning.code !== 'MODULE_LEVEL_DIRECTIVE') warn(warning);
        },
      },
    },
  });
}
