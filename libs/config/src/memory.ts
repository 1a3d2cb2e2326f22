/*
 * A worker's memory in three layers, each under the next with headroom:
 *
 *   queue:work --memory (job.memory)  <  PHP memory_limit  <  the container's hard limit
 *
 * --memory is checked only between jobs (Laravel's Worker::memoryExceeded after each
 * one), so it restarts a worker gracefully but cannot stop a job from growing; PHP's
 * memory_limit stops a job that grows too far with a logged fatal error; the hard
 * limit is the kernel's, and past it the container is killed with no log line and the
 * job is left reserved until retry_after. The harness (tools/worker-harness) measures
 * each layer under the cgroup memory controller with Debian's Laravel 8.
 */

/**
 * What a PHP CLI process running a booted Laravel worker holds beyond the heap PHP's
 * memory_limit counts: the binary, its extensions and libc. Measured 22 MiB for a bare
 * `php -r`, 33 MiB for an idle queue:work with a 2 MiB heap; 40 leaves room for the
 * extensions a real image adds.
 */
export const PHP_PROCESS_OVERHEAD_MIB = 40;

/** With scaleInProtection, the worker entry point's parent (it refreshes the protection) is a second, small PHP process in each worker container. */
export const TASK_PROTECTION_OVERHEAD_MIB = 16;

/**
 * The share of memory_limit --memory may take: a job that starts just under --memory
 * still has a quarter of the limit to grow in before PHP stops it.
 */
const WORKER_MEMORY_SHARE = 0.8;

/** Each container's hard limit, MiB: an equal share of the task. */
export function containerMemoryLimit(taskMemory: number, processes: number): number {
  return Math.floor(taskMemory / Math.max(1, processes));
}

/** PHP's memory_limit for a worker, MiB: the container's limit less what the processes hold outside the heap. */
export function phpMemoryLimit(containerMemory: number, scaleInProtection: boolean): number {
  return containerMemory - PHP_PROCESS_OVERHEAD_MIB - (scaleInProtection ? TASK_PROTECTION_OVERHEAD_MIB : 0);
}

/** The largest queue:work --memory that leaves a job room to grow under memory_limit, MiB. */
export function maxWorkerMemory(memoryLimit: number): number {
  return Math.floor(memoryLimit * WORKER_MEMORY_SHARE);
}
