/**
 * The type map at compile time (`npm run typecheck` checks this file; the runtime part is trivial):
 * built-in types want their payload, custom types stay open, results follow the map.
 */

import { expectTypeOf, test } from 'vitest';

import type {
  AddJobResult,
  GenerateAnalyticsResult,
  JobDetail,
  JobQueueService,
  JsonObject,
  PayloadOf,
  ResultOf,
  SendNotificationPayload,
} from '../src/index.js';
import type { BuiltinJobTypes } from '../src/index.js';

type Service = JobQueueService;

test('payloads and results come from the type map', () => {
  expectTypeOf<PayloadOf<BuiltinJobTypes, 'send-notification'>>().toEqualTypeOf<SendNotificationPayload>();
  expectTypeOf<PayloadOf<BuiltinJobTypes, 'resize-image'>>().toEqualTypeOf<JsonObject>();
  expectTypeOf<ResultOf<BuiltinJobTypes, 'generate-analytics'>>().toEqualTypeOf<GenerateAnalyticsResult>();
  expectTypeOf<ResultOf<BuiltinJobTypes, 'resize-image'>>().toBeUnknown();
  expectTypeOf<ReturnType<Service['addJob']>>().resolves.toEqualTypeOf<AddJobResult>();
  expectTypeOf<ReturnType<Service['getJobStatus']>>().resolves.toEqualTypeOf<JobDetail<unknown>>();
});

test('a wrong built-in payload does not compile; a custom type takes any object', () => {
  const check = (service: Service): void => {
    void service.addJob('send-notification', { userId: 'u', channel: 'email', content: { body: 'hi' } });
    // @ts-expect-error -- content.body is required
    void service.addJob('send-notification', { userId: 'u', channel: 'email', content: {} });
    // @ts-expect-error -- destination must be s3 or local
    void service.addJob('backup-database', { destination: 'ftp', retention: 7 });
    void service.addJob('resize-image', { url: 'https://…', width: 320 });
  };
  expectTypeOf(check).toBeFunction();
});

test('an application adds its own types to the map', () => {
  type AppJobs = BuiltinJobTypes & { 'resize-image': { payload: { url: string }; result: { width: number } } };
  const check = (service: JobQueueService<AppJobs>): void => {
    // @ts-expect-error -- url is required for this type now
    void service.addJob('resize-image', { width: 320 });
    void service.getJobStatus<'resize-image'>('id').then((job) => expectTypeOf(job.result).toEqualTypeOf<{ width: number } | null>());
  };
  expectTypeOf(check).toBeFunction();
});
