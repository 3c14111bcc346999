/**
 * The example page: "Generate report" asks this app's own backend (server.mjs) to schedule a job; the
 * backend holds the master token and answers the job id with a job-scoped token, and the page follows
 * the job on the jobs API (another origin) with useJobStatus until its result arrives. The API's
 * address comes from NEXT_PUBLIC_JOBS_URL, written in at build time as Next.js does.
 */

import { type ReactElement, StrictMode, useState } from 'react';
import { createRoot } from 'react-dom/client';

import { useJobStatus } from '@nchat/jobs-client/react';

interface ScheduledReport {
  jobId: string;
  accessToken: string;
  queue: string;
}

function ReportProgress({ jobId, accessToken, queue }: ScheduledReport): ReactElement {
  const { status, progress, result, error, connection } = useJobStatus(jobId, { token: accessToken, queue });
  return (
    <section>
      <progress id="bar" max={100} value={progress} data-progress={progress} />
      <div className="row">
        <span id="percent">{Math.round(progress)} %</span>
        <span id="status" data-status={status ?? ''}>
          {status ?? '…'}
        </span>
        <span id="connection">{connection}</span>
      </div>
      {result != null && <pre id="result">{JSON.stringify(result)}</pre>}
      {error && <p id="error">{error}</p>}
    </section>
  );
}

function App(): ReactElement {
  const [report, setReport] = useState<ScheduledReport | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  async function start(): Promise<void> {
    const answer = await fetch('/api/reports', { method: 'POST' });
    if (answer.ok) setReport((await answer.json()) as ScheduledReport);
    else setProblem(`the backend answered ${answer.status}`);
  }
  return (
    <main>
      <h1>Monthly report</h1>
      <button id="start" type="button" disabled={report !== null} onClick={() => void start()}>
        Generate report
      </button>
      {problem && <p id="problem">{problem}</p>}
      {report && <ReportProgress {...report} />}
    </main>
  );
}

createRoot(document.getElementById('root') as HTMLElement).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
