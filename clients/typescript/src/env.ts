/**
 * The API's address from the environment: `NEXT_PUBLIC_JOBS_URL` (SPEC.md "Frontend Integration").
 * Bundlers (Next.js, Vite with `define`) write the value into the code at build time; where nobody
 * did and no `process` exists (a plain browser bundle), the answer is undefined, never an exception.
 */

declare const process: { env: Record<string, string | undefined> };

export function envJobsUrl(): string | undefined {
  try {
    // Written out in full so that build-time replacement of `process.env.NEXT_PUBLIC_JOBS_URL` finds it.
    return process.env.NEXT_PUBLIC_JOBS_URL || undefined;
  } catch {
    return undefined;
  }
}
