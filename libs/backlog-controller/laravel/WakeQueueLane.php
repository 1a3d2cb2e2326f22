<?php
/*
 * queue-lanes wake-up listener (Laravel 8 to 13, PHP 7.4+): after a job is queued on a lane's
 * queue, invoke the backlog controller asynchronously, so a lane at zero tasks starts now rather
 * than at the controller's next one-minute tick. Optional: without it a lane still wakes within
 * a minute, so nothing here may ever slow or fail the dispatch:
 * - where the app serves HTTP, the request only notes the lane; the Invoke is sent after the
 *   response (the app's terminating callbacks, as Laravel's own dispatchAfterResponse does);
 * - in the console (artisan commands, queue workers, whose terminating callbacks run only when
 *   they exit) it is sent at once, bounded by HTTP_TIMEOUTS, with no SDK retries;
 * - one Lambda client per process, and at most one attempt per lane per PER_LANE_SECONDS,
 *   whether the attempt succeeded or not.
 *
 * Install: copy this file to app/Listeners/WakeQueueLane.php and config/queue-lanes.php
 * beside it to config/, list the application's IAM role in controller.wakeInvokerRoleArns,
 * require aws/aws-sdk-php, and register it as an event subscriber: EventServiceProvider's
 * `protected $subscribe = [\App\Listeners\WakeQueueLane::class];`, or
 * Event::subscribe(\App\Listeners\WakeQueueLane::class) in a service provider's boot().
 */

namespace App\Listeners;

use Illuminate\Bus\Events\BatchDispatched;
use Illuminate\Queue\Events\JobQueued;
use Illuminate\Support\Facades\Cache;

class WakeQueueLane
{
    /** Seconds between two wake-up attempts of one lane: the controller needs one, however many jobs are dispatched. */
    public const PER_LANE_SECONDS = 10;

    /**
     * The Lambda client's `http` options (Guzzle's request options): seconds to connect, and for the
     * whole call. An asynchronous Invoke answers 202 in milliseconds; past these it is not coming.
     */
    public const HTTP_TIMEOUTS = ['connect_timeout' => 0.5, 'timeout' => 0.9];

    /** @var \Aws\Lambda\LambdaClient|null  One per process: built by the first wake-up, reused by every later one. */
    private static $client = null;

    /** @var array<string, float>  Lane => when this process may next try it (microtime), checked before the shared cache. */
    private static $nextAttempt = [];

    /** @var array<string, true>  Lanes noted during an HTTP request, woken after its response. */
    private static $afterResponse = [];

    /** @var \Closure(array): void  Lambda Invoke with these arguments. */
    private $invoke;

    /** @param \Closure(array): void|null $invoke  Lambda Invoke; the AWS SDK's by default (the seam a test records). */
    public function __construct(?\Closure $invoke = null)
    {
        $this->invoke = $invoke ?? static function (array $request): void {
            self::client()->invoke($request);
        };
    }

    /** The events it listens to (Laravel 8+ reads this map from a subscriber). */
    public function subscribe($events): array
    {
        return [JobQueued::class => 'handle', BatchDispatched::class => 'handleBatch'];
    }

    public function handle(JobQueued $event): void
    {
        $queue = self::queueOf($event);
        if ($queue !== null) {
            $this->wake($queue);
        }
    }

    /**
     * A batch's jobs, before Laravel 11: Batch::add passes the batch's queue to bulk() and never
     * sets it on the jobs, so their JobQueued cannot tell where they went, and the batch can.
     * From 11, JobQueued carries the queue and handle() has already woken the lane.
     */
    public function handleBatch(BatchDispatched $event): void
    {
        if (property_exists(JobQueued::class, 'queue')) {
            return;
        }
        $options = $event->batch->options;
        $connection = $options['connection'] ?? config('queue.default');
        $this->wake($options['queue'] ?? self::defaultQueue($connection));
    }

    /**
     * The queue the job went to, or null for a batched job before Laravel 11 (handleBatch's).
     * JobQueued carries it from Laravel 11 (laravel/framework #49837; null for the connection's
     * default). Before that, a dispatched job goes to its own queue (onQueue, or its $queue
     * property), else to the connection's default queue.
     */
    public static function queueOf(JobQueued $event): ?string
    {
        if (property_exists($event, 'queue')) {
            return self::named($event->queue) ?? self::defaultQueue($event->connectionName);
        }
        $job = $event->job;
        if (is_object($job) && self::named($job->batchId ?? null) !== null) {
            return null;
        }
        return (is_object($job) ? self::named($job->queue ?? null) : null) ?? self::defaultQueue($event->connectionName);
    }

    private function wake(string $queue): void
    {
        $lane = config('queue-lanes.lanes', [])[$queue] ?? null;
        if ($lane === null) {
            return;
        }
        if (app()->runningInConsole()) {
            $this->attempt([$lane]);
            return;
        }
        if (self::$afterResponse === []) {
            app()->terminating(function (): void {
                $lanes = array_keys(self::$afterResponse);
                self::$afterResponse = [];
                $this->attempt($lanes);
            });
        }
        self::$afterResponse[$lane] = true;
    }

    /** One Invoke for the lanes not tried in the last PER_LANE_SECONDS; a failure is reported, never thrown. */
    private function attempt(array $lanes): void
    {
        $lanes = array_values(array_filter($lanes, [self::class, 'mayAttempt']));
        if ($lanes === []) {
            return;
        }
        try {
            ($this->invoke)([
                'FunctionName' => config('queue-lanes.controller'),
                'InvocationType' => 'Event',
                'Payload' => json_encode(['wake' => $lanes]),
            ]);
        } catch (\Throwable $e) {
            // The next tick wakes the lane anyway.
            report($e);
        }
    }

    /**
     * Whether this lane may be tried now: not in this process (no cache round trip per dispatch)
     * nor, through Cache::add (atomic), in any process sharing the cache, in the last PER_LANE_SECONDS.
     * Both marks are taken before the attempt, so a failing Invoke is not retried sooner.
     */
    private static function mayAttempt(string $lane): bool
    {
        $now = microtime(true);
        if ((self::$nextAttempt[$lane] ?? 0.0) > $now) {
            return false;
        }
        self::$nextAttempt[$lane] = $now + self::PER_LANE_SECONDS;
        try {
            return Cache::add("queue-lanes:wake:{$lane}", 1, self::PER_LANE_SECONDS);
        } catch (\Throwable $e) {
            report($e);
            return false;
        }
    }

    /**
     * The process's Lambda client: HTTP_TIMEOUTS, no retries, and credentials whose ECS and EC2
     * metadata lookups are bounded the same way (the SDK's defaults wait 1 s and retry).
     */
    private static function client(): \Aws\Lambda\LambdaClient
    {
        if (self::$client === null) {
            $region = config('queue-lanes.region');
            self::$client = new \Aws\Lambda\LambdaClient([
                'region' => $region,
                'version' => 'latest',
                'retries' => 0,
                'http' => self::HTTP_TIMEOUTS,
                'credentials' => \Aws\Credentials\CredentialProvider::defaultProvider([
                    'region' => $region,
                    'timeout' => self::HTTP_TIMEOUTS['connect_timeout'],
                    'retries' => 0,
                ]),
            ]);
        }
        return self::$client;
    }

    private static function defaultQueue(?string $connection): string
    {
        return (string) config("queue.connections.{$connection}.queue", 'default');
    }

    /** @param mixed $value */
    private static function named($value): ?string
    {
        return is_string($value) && $value !== '' ? $value : null;
    }
}
