/**
 * Payloads and results of SPEC.md's six built-in job types, as one name-keyed map.
 *
 * `addJob('send-notification', payload)` checks `payload` against this map at compile time; any other
 * type name stays open (`Record<string, unknown>` in, `unknown` out) unless the application adds it to
 * its own map (`JobQueueService<MyJobs & BuiltinJobTypes>`). Types only: nothing here runs.
 */

/** A JSON object, the shape of every payload the API accepts. */
export type JsonObject = { [key: string]: unknown };

export interface NotificationContent {
  subject?: string;
  body: string;
  html?: string;
}

export interface SendNotificationPayload {
  userId: string;
  /** `email` goes out by mail (notifications plugin or SMTP); others need the notifications plugin. */
  channel: 'email' | 'push' | 'sms' | 'in-app' | (string & {});
  /** Where to: without it, email goes to the user's address in nChat's database. */
  to?: { email?: string; phone?: string; pushToken?: string };
  content: NotificationContent;
  category?: string;
  priority?: number;
  template?: string;
  variables?: JsonObject;
  metadata?: JsonObject;
}

export interface SendNotificationResult {
  success: boolean;
  notificationId?: string;
  [key: string]: unknown;
}

export interface SendEmailDigestPayload {
  /** Without it the job fans out: one digest job per user with that frequency. */
  userId?: string;
  frequency: 'daily' | 'weekly';
  /** ISO time; defaults to the user's last digest, else 24 h (daily) or 7 days (weekly) ago. */
  since?: string;
}

export interface SendEmailDigestResult {
  sent?: boolean;
  [key: string]: unknown;
}

export interface CleanupExpiredPayload {
  targetType: 'messages' | 'notifications' | (string & {});
  /** Days: what is older is deleted. */
  olderThan: number;
  batchSize?: number;
  /** Only count what would be deleted. */
  dryRun?: boolean;
}

export interface CleanupExpiredResult {
  [key: string]: unknown;
}

export type AnalyticsMetric = 'messages' | 'users' | 'channels';

export interface GenerateAnalyticsPayload {
  /** UTC day `YYYY-MM-DD`; default: yesterday. */
  date?: string;
  metrics?: AnalyticsMetric[];
}

export interface GenerateAnalyticsResult {
  date: string;
  messages?: { total: number; perChannel: Record<string, number> };
  users?: { active: number; new: number };
  channels?: { new: number; active: number };
}

export interface BackupDatabasePayload {
  destination: 's3' | 'local';
  /** Days a backup is kept (the newest three always are). */
  retention: number;
}

export interface BackupDatabaseResult {
  [key: string]: unknown;
}

export interface ScheduledMessagePayload {
  scheduledMessageId: string;
  channelId: string;
  userId: string;
  content: string;
}

export interface ScheduledMessageResult {
  [key: string]: unknown;
}

/** One entry of a job type map: what the job takes and what it returns. */
export interface JobTypeEntry {
  payload: JsonObject | object;
  result: unknown;
}

/** A map from job type names to their payload and result. */
export type JobTypeMap = { [type: string]: JobTypeEntry };

/** SPEC.md "Built-in Job Types". */
export interface BuiltinJobTypes {
  'send-notification': { payload: SendNotificationPayload; result: SendNotificationResult };
  'send-email-digest': { payload: SendEmailDigestPayload; result: SendEmailDigestResult };
  'cleanup-expired': { payload: CleanupExpiredPayload; result: CleanupExpiredResult };
  'generate-analytics': { payload: GenerateAnalyticsPayload; result: GenerateAnalyticsResult };
  'backup-database': { payload: BackupDatabasePayload; result: BackupDatabaseResult };
  'scheduled-message': { payload: ScheduledMessagePayload; result: ScheduledMessageResult };
}

/** The payload of `T` in map `M`; an open JSON object for a type the map does not name. */
export type PayloadOf<M, T extends string> = T extends keyof M
  ? M[T] extends { payload: infer P }
    ? P
    : JsonObject
  : JsonObject;

/** The result of `T` in map `M`; `unknown` for a type the map does not name. */
export type ResultOf<M, T extends string> = T extends keyof M
  ? M[T] extends { result: infer R }
    ? R
    : unknown
  : unknown;

/**
 * Type names: the map's names are suggested by editors, any other string is allowed (custom types).
 * `(string & {})` keeps the literal suggestions from collapsing into plain `string`.
 */
export type JobTypeName<M> = Extract<keyof M, string> | (string & {});
