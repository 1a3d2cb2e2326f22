import type { WorkloadLane } from './workloads';

/*
 * The lane the simulator's tests run their standard mix on, shared so the SQS lane's
 * figures (sqs.test.ts) compare with the Redis lane's (simulate.test.ts) like for like.
 */

/** Four tasks of two workers; ten-minute jobs are only valid with scale-in protection (job.timeout above stopTimeout). */
export const MIX_LANE: WorkloadLane = {
  name: 'image',
  queues: ['image'],
  min: 0,
  max: 4,
  backlogPerTask: 50,
  drainMinutes: 15,
  workers: 2,
  tries: 3,
  backoff: 10,
  jobTimeout: 750,
  stopTimeout: 120,
  scaleInProtection: true,
  maxPickupSeconds: 600,
};
