<?php
/*
 * queue-lanes wake-up listener (Laravel 8 to 13): after a job is queued on a lane's queue,
 * invoke the backlog controller asynchronously, so a lane at zero tasks starts now rather
 * than at the controller's next one-minute tick. Optional: without it a lane still wakes
 * within a minute.
 *
 * Install: copy this file to app/Listeners/WakeQueueLane.php and config/queue-lanes.php
 * beside it to config/, list the application's IAM role in controller.wakeInvokerRoleArns,
 * require aws/aws-sdk-php, and register the listener for Illuminate\Queue\Events\JobQueued
 * (EventServiceProvider::$listen, or Event::listen(JobQueued::class, WakeQueueLane::class)).
 */

namespace App\Listeners;

use Illuminate\Queue\Events\JobQueued;
use Illuminate\Support\Facades\Cache;

class WakeQueueLane
{
    /** Seconds between two wake-ups of one lane: the controller needs one, however many jobs are dispatched. */
    public const PER_LANE_SECONDS = 10;

    /** @var \Closure(array): void  Lambda Invoke with these arguments. */
    private \Closure $invoke;

    /** @param \Closure(array): void|null $invoke  Lambda Invoke; the AWS SDK's by default (the seam a test records). */
    public function __construct(?\Closure $invoke = null)
    {
        $this->invoke = $invoke ?? static function (array $request): void {
            (new \Aws\Lambda\LambdaClient(['region' => config('queue-lanes.region'), 'version' => 'latest']))->invoke($request);
        };
    }

    public function handle(JobQueued $event): void
    {
        $lane = config('queue-lanes.lanes', [])[self::queueOf($event)] ?? null;
        // Cache::add is atomic: one wake-up per lane per PER_LANE_SECONDS across every process sharing the cache.
        if ($lane === null || ! Cache::add("queue-lanes:wake:{$lane}", 1, self::PER_LANE_SECONDS)) {
            return;
        }
        try {
            ($this->invoke)([
                'FunctionName' => config('queue-lanes.controller'),
                'InvocationType' => 'Event',
                'Payload' => json_encode(['wake' => [$lane]]),
            ]);
        } catch (\Throwable $e) {
            // A wake-up is an optimisation: it must never fail the dispatch, and the next tick wakes the lane anyway.
            report($e);
        }
    }

    /**
     * The queue the job went to. JobQueued carries it from Laravel 11 (laravel/framework
     * #49837); before that, the job's own queue (onQueue, or its $queue property), else
     * the connection's default queue, which is where Laravel then pushes it.
     */
    public static function queueOf(JobQueued $event): string
    {
        if (isset($event->queue) && is_string($event->queue) && $event->queue !== '') {
            return $event->queue;
        }
        $job = $event->job;
        if (is_object($job) && isset($job->queue) && is_string($job->queue) && $job->queue !== '') {
            return $job->queue;
        }
        return (string) config("queue.connections.{$event->connectionName}.queue", 'default');
    }
}
