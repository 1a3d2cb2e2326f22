<?php
/*
 * queue-lanes worker entry point: what every lane container runs in place of `artisan`.
 *
 *   php -d memory_limit=512M /tmp/.queue-lanes/worker.php queue:work redis --queue=bulk ...
 *
 * It boots the application from the working directory as Laravel's own artisan does
 * (vendor/autoload.php, bootstrap/app.php, the console kernel's handle and terminate, which
 * is all Application::handleCommand does on Laravel 11 to 13), and once the providers have
 * booted it listens to Laravel's queue events, the same on Laravel 8 to 13: JobProcessing
 * starts an attempt; JobProcessed or JobExceptionOccurred ends it, and JobFailed ends it
 * first when a job fails (a timed-out job is killed right after JobFailed, with no later
 * event). What queue:work prints for people is never read: it changes with the version,
 * the output flags and the locale.
 *
 * Every attempt that ends writes one JSON line to stdout, which the lane's log metric
 * filters count (libs/observability):
 *   {"queueLanes":"job","lane":"bulk","queue":"bulk","connection":"redis","job":"App\\Jobs\\X",
 *    "outcome":"finished|released|failed","error":false,"runtimeSeconds":1.234,"peakMemoryMiB":38.5}
 * `error` is true for an attempt that threw or failed. Peak memory is the attempt's own on
 * PHP 8.2+ (memory_reset_peak_usage), else the worker's peak so far.
 *
 * With QUEUE_LANES_PROTECTION=1 (scaleInProtection) the task protects itself from scale-in
 * while any of its workers runs a job. The entry point forks before loading anything: the
 * child runs the worker; the parent passes SIGTERM, SIGINT and SIGQUIT on to it, refreshes
 * the protection every second while it is due, and exits with the child's status. A job's
 * start marks its container busy until the job's own limit has passed, plus a margin (its
 * timeout(), else the worker's --timeout as Laravel's Worker::timeoutForJob; with neither,
 * no alarm stops it and its retryUntil() is the limit); the protection is taken before the
 * job runs, for as long as the latest mark needs (at most QUEUE_LANES_PROTECTION_MINUTES at
 * a time, refreshed at half), and released when no container of the task is busy. The
 * containers of a task share /tmp, where each keeps its mark under a lock. A worker that
 * dies mid-job has its mark cleared by its parent; a whole container that dies leaves its
 * mark, which lapses at its expiry. The platform owns this file: the application's code
 * does not change.
 */

declare(strict_types=1);

// Written for every PHP that Laravel 8 to 13 run on (7.3 and later): no arrow functions, typed or promoted properties.

namespace QueueLanes\Worker;

const STATE_DIR = '/tmp/.queue-lanes';
const LOG_PREFIX = 'queue-lanes task-protection:';
/** Seconds a busy mark outlives the job's own limit: Laravel's alarm, the failure handling and the release after it. */
const MARGIN_SECONDS = 30;
/** With no limit at all (timeout 0 and no retryUntil), a mark lasts ECS's longest protection. */
const UNBOUNDED_SECONDS = 2880 * 60;

$settings = settings($argv);
if ($settings['protect']) {
    superviseWorker($settings);
}
runArtisan($settings);

/** What the entry point needs from its environment and the worker's arguments. */
function settings(array $argv): array
{
    return [
        'lane' => (string) (getenv('LANE') ?: ''),
        'protect' => getenv('QUEUE_LANES_PROTECTION') === '1',
        'agent' => rtrim((string) getenv('ECS_AGENT_URI'), '/'),
        'container' => preg_replace('/[^A-Za-z0-9_.-]/', '-', (string) (getenv('QUEUE_LANES_CONTAINER') ?: 'worker')),
        // ECS accepts 1 to 2880 minutes; short, so a task whose entry point died is not held for long.
        'minutes' => max(1, min(2880, (int) (getenv('QUEUE_LANES_PROTECTION_MINUTES') ?: 5))),
        'timeout' => workerTimeout($argv),
    ];
}

/** The worker's --timeout (queue:work's default 60). */
function workerTimeout(array $argv): int
{
    foreach ($argv as $i => $argument) {
        if (preg_match('/^--timeout=(\d+)$/', $argument, $m)) {
            return (int) $m[1];
        }
        if ($argument === '--timeout' && preg_match('/^\d+$/', $argv[$i + 1] ?? '')) {
            return (int) $argv[$i + 1];
        }
    }
    return 60;
}

/** Boots the application as artisan does, with the queue listeners, and runs the command; exits with its status. */
function runArtisan(array $settings): void
{
    $root = getcwd();
    define('LARAVEL_START', microtime(true));
    require $root . '/vendor/autoload.php';
    $app = require_once $root . '/bootstrap/app.php';
    $app->booted(function ($app) use ($settings): void {
        (new JobListener($settings))->listen($app['events']);
    });
    $kernel = $app->make(\Illuminate\Contracts\Console\Kernel::class);
    $input = new \Symfony\Component\Console\Input\ArgvInput();
    $status = $kernel->handle($input, new \Symfony\Component\Console\Output\ConsoleOutput());
    $kernel->terminate($input, $status);
    exit($status);
}

/** One worker's attempts: the figures line when each ends, and its busy mark while it runs. */
final class JobListener
{
    /** @var array */
    private $settings;
    /** @var array{job: object, started: float, reported: bool}|null the attempt running now */
    private $attempt = null;

    public function __construct(array $settings)
    {
        $this->settings = $settings;
    }

    public function listen($events): void
    {
        $events->listen('Illuminate\Queue\Events\JobProcessing', function ($event) {
            $this->start($event);
        });
        $events->listen('Illuminate\Queue\Events\JobFailed', function ($event) {
            $this->report($event, 'failed', true);
        });
        $events->listen('Illuminate\Queue\Events\JobProcessed', function ($event) {
            $this->end($event, false);
        });
        $events->listen('Illuminate\Queue\Events\JobExceptionOccurred', function ($event) {
            $this->end($event, true);
        });
    }

    private function start($event): void
    {
        // A job the running one dispatches to a sync connection fires the same events inside it: not the worker's.
        if ($this->attempt !== null) {
            return;
        }
        if (function_exists('memory_reset_peak_usage')) {
            memory_reset_peak_usage();
        }
        $this->attempt = ['job' => $event->job, 'started' => microtime(true), 'reported' => false];
        if ($this->settings['protect']) {
            markBusy($this->settings, time() + jobSeconds($event->job, $this->settings['timeout']) + MARGIN_SECONDS);
        }
    }

    /**
     * JobProcessed (the job returned: released when it released itself) or JobExceptionOccurred
     * (it threw: Laravel's Worker::handleJobException releases it unless it failed or was deleted).
     */
    private function end($event, bool $threw): void
    {
        $job = $event->job;
        if ($this->attempt === null || $this->attempt['job'] !== $job) {
            return;
        }
        $outcome = $job->hasFailed() ? 'failed' : ($job->isReleased() || ($threw && !$job->isDeleted()) ? 'released' : 'finished');
        $this->report($event, $outcome, $threw || $outcome === 'failed');
        $this->attempt = null;
        if ($this->settings['protect']) {
            markBusy($this->settings, null);
        }
    }

    /** Writes the attempt's line once (JobFailed comes before JobExceptionOccurred when a job fails). */
    private function report($event, string $outcome, bool $error): void
    {
        if ($this->attempt === null || $this->attempt['job'] !== $event->job || $this->attempt['reported']) {
            return;
        }
        $this->attempt['reported'] = true;
        $line = [
            'queueLanes' => 'job',
            'lane' => $this->settings['lane'],
            'queue' => (string) $event->job->getQueue(),
            'connection' => (string) $event->connectionName,
            'job' => (string) $event->job->resolveName(),
            'outcome' => $outcome,
            'error' => $error,
            'runtimeSeconds' => round(microtime(true) - $this->attempt['started'], 3),
            'peakMemoryMiB' => round(memory_get_peak_usage(true) / 1048576, 1),
        ];
        fwrite(STDOUT, json_encode($line, JSON_UNESCAPED_SLASHES) . "\n");
    }
}

/** Seconds the job may run: its timeout(), else the worker's --timeout (Worker::timeoutForJob); 0 means no alarm, then retryUntil(). */
function jobSeconds($job, int $workerTimeout): int
{
    $timeout = $job->timeout() ?? $workerTimeout;
    if ($timeout > 0) {
        return (int) $timeout;
    }
    $until = $job->retryUntil();
    return $until ? max(0, (int) $until - time()) : UNBOUNDED_SECONDS;
}

/**
 * The parent of a protected worker: forks the worker, passes signals on, refreshes the
 * protection until the worker exits, clears its mark (its job ended with it) and exits with
 * its status. Returns only in the child.
 */
function superviseWorker(array $settings): void
{
    if (!function_exists('pcntl_fork') || !function_exists('posix_kill')) {
        fwrite(STDERR, LOG_PREFIX . " the pcntl and posix extensions are needed: SIGTERM would stop the worker mid-job; install them in the image\n");
        exit(70);
    }
    if ($settings['agent'] === '') {
        fwrite(STDERR, LOG_PREFIX . " ECS_AGENT_URI is not set (not on ECS): the task is not protected\n");
    }
    @mkdir(STATE_DIR . '/busy', 0777, true);
    // A mark left by this container's previous run: its job died with it.
    markBusy($settings, null);
    $worker = pcntl_fork();
    if ($worker === -1) {
        fwrite(STDERR, LOG_PREFIX . " could not fork the worker\n");
        exit(71);
    }
    if ($worker === 0) {
        return;
    }
    pcntl_async_signals(true);
    foreach ([SIGTERM, SIGINT, SIGQUIT] as $signal) {
        pcntl_signal($signal, function (int $received) use ($worker) {
            posix_kill($worker, $received);
        });
    }
    $status = 0;
    while (pcntl_waitpid($worker, $status, WNOHANG) !== $worker) {
        withLock(function () use ($settings) {
            applyProtection($settings);
        });
        // A signal cuts the sleep short; the loop then waits again.
        sleep(1);
    }
    markBusy($settings, null);
    exit(pcntl_wifsignaled($status) ? 128 + pcntl_wtermsig($status) : pcntl_wexitstatus($status));
}

/** Marks this container busy until $until (a time), or idle (null); then applies the task's state. */
function markBusy(array $settings, ?int $until): void
{
    withLock(function () use ($settings, $until): void {
        $file = STATE_DIR . '/busy/' . $settings['container'];
        if ($until !== null) {
            file_put_contents($file, (string) $until);
        } else {
            @unlink($file);
        }
        applyProtection($settings);
    });
}

/**
 * Protects the task while any container is busy, for as long as the latest mark needs (at
 * most the configured minutes), refreshing before half of it has run out; releases it when
 * none is busy. Called under the lock.
 */
function applyProtection(array $settings): void
{
    $now = time();
    $latest = 0;
    $busy = [];
    foreach (glob(STATE_DIR . '/busy/*') ?: [] as $file) {
        $until = (int) @file_get_contents($file);
        if ($until > $now) {
            $busy[] = basename($file);
            $latest = max($latest, $until);
        } else {
            @unlink($file);
        }
    }
    $state = json_decode((string) @file_get_contents(STATE_DIR . '/protection.json'), true) ?: ['enabled' => false, 'until' => 0, 'refreshAt' => 0];
    if ($busy !== [] && (!$state['enabled'] || $now >= $state['refreshAt'])) {
        $minutes = max(1, min($settings['minutes'], (int) ceil(($latest - $now) / 60)));
        if (putProtection($settings, $minutes, 'running a job: ' . implode(', ', $busy))) {
            $state = ['enabled' => true, 'until' => $now + $minutes * 60, 'refreshAt' => $now + $minutes * 30];
        }
    } elseif ($busy === [] && $state['enabled']) {
        if (putProtection($settings, 0, 'every worker idle')) {
            $state = ['enabled' => false, 'until' => 0, 'refreshAt' => 0];
        }
    } else {
        return;
    }
    file_put_contents(STATE_DIR . '/protection.json', json_encode($state));
}

/** PUT $ECS_AGENT_URI/task-protection/v1/state (0 minutes: release); true when the agent confirms the new state. */
function putProtection(array $settings, int $minutes, string $why): bool
{
    if ($settings['agent'] === '') {
        return false;
    }
    $enabled = $minutes > 0;
    $body = $enabled ? ['ProtectionEnabled' => true, 'ExpiresInMinutes' => $minutes] : ['ProtectionEnabled' => false];
    $context = stream_context_create(['http' => [
        'method' => 'PUT',
        'header' => "Content-Type: application/json\r\n",
        'content' => json_encode($body),
        'timeout' => 5,
        'ignore_errors' => true,
    ]]);
    $response = @file_get_contents($settings['agent'] . '/task-protection/v1/state', false, $context);
    $answer = is_string($response) ? json_decode($response, true) : null;
    if (isset($answer['protection']) && ($answer['protection']['ProtectionEnabled'] ?? null) === $enabled) {
        $what = $enabled ? "enabled for {$minutes} minutes" : 'released';
        fwrite(STDERR, LOG_PREFIX . " {$what} ({$why})\n");
        return true;
    }
    $reason = is_string($response) ? $response : (error_get_last()['message'] ?? 'no answer');
    fwrite(STDERR, LOG_PREFIX . ' the ECS agent refused ' . json_encode($body) . ": {$reason}; trying again within a second\n");
    return false;
}

function withLock(callable $step): void
{
    $lock = fopen(STATE_DIR . '/lock', 'c');
    if ($lock === false) {
        fwrite(STDERR, LOG_PREFIX . ' cannot open ' . STATE_DIR . "/lock\n");
        return;
    }
    flock($lock, LOCK_EX);
    try {
        $step();
    } finally {
        flock($lock, LOCK_UN);
        fclose($lock);
    }
}
