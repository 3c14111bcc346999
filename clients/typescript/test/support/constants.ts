/** Values the test stack and the tests agree on. */

export const MASTER_TOKEN = 'master-token-for-the-typescript-client-tests';
/** The page origin of the DOM tests (happy-dom's document URL): allowed by JOBS_CORS_ORIGINS. */
export const APP_ORIGIN = 'http://app.localhost:3000';
/** A queue only the queue-control tests use, so pausing it disturbs nothing else. */
export const CONTROL_QUEUE = 'ts-control';
export const TEST_QUEUES = ['default', 'high-priority', 'low-priority', 'scheduled', CONTROL_QUEUE];
