<?php
/*
 * queue-lanes task protection: what `scaleInProtection: true` runs in each worker container.
 *
 *   php /tmp/.queue-lanes/task-protection.php php artisan queue:work ...
 *
 * It runs the worker as its child, passes its output through unchanged, and reads the
 * job lines queue:work prints (Laravel 8: "[date][id] Processing:" then "Processed:" or
 * "Failed:"; Laravel 9 and later: "... RUNNING" then "... DONE" or "... FAIL"). While any
 * worker container of the task runs a job, the task is protected from scale-in through
 * the ECS agent's endpoint ($ECS_AGENT_URI/task-protection/v1/state), the protection
 * refreshed before it expires; when every worker is idle, it is released. The containers
 * of a task share /tmp, where each marks itself busy under a lock, so the last one to
 * go idle releases the task and no release can overtake another worker's protection.
 * A job that prints no finish line (Laravel 8 prints none for a released attempt) counts
 * as running until its --timeout has passed: no job outlives it.
 *
 * SIGTERM, SIGINT and SIGQUIT are passed to the worker, which finishes its job (Laravel
 * needs pcntl for that too); the guard exits with the worker's status once its output ends.
 * The platform owns this file: the application's code does not change.
 */

declare(strict_types=1);

const STATE_DIR = '/tmp/.queue-lanes';
const LOG_PREFIX = 'queue-lanes task-protection:';

$command = array_slice($argv, 1);
if ($command === []) {
    fwrite(STDERR, LOG_PREFIX . " usage: php task-protection.php <worker command...>\n");
    exit(2);
}

$settings = [
    'agent' => rtrim((string) getenv('ECS_AGENT_URI'), '/'),
    'container' => preg_replace('/[^A-Za-z0-9_.-]/', '-', (string) (getenv('QUEUE_LANES_CONTAINER') ?: 'worker')),
    // ECS accepts 1 to 2880 minutes; short, so a task whose guard died is not held for long.
    'minutes' => max(1, min(2880, (int) (getenv('QUEUE_LANES_PROTECTION_MINUTES') ?: 5))),
    'timeout' => jobTimeout($command),
];

if (!function_exists('pcntl_async_signals')) {
    fwrite(STDERR, LOG_PREFIX . " the pcntl extension is missing: SIGTERM would stop the worker mid-job; install pcntl in the image\n");
    exit(70);
}
if ($settings['agent'] === '') {
    fwrite(STDERR, LOG_PREFIX . " ECS_AGENT_URI is not set (not on ECS): the task is not protected\n");
}
@mkdir(STATE_DIR . '/busy', 0777, true);
markBusy($settings, false);

$worker = proc_open($command, [0 => STDIN, 1 => ['pipe', 'w'], 2 => STDERR], $pipes);
if (!is_resource($worker)) {
    fwrite(STDERR, LOG_PREFIX . ' could not start ' . implode(' ', $command) . "\n");
    exit(127);
}
pcntl_async_signals(true);
foreach ([SIGTERM, SIGINT, SIGQUIT] as $signal) {
    pcntl_signal($signal, fn (int $received) => proc_terminate($worker, $received));
}

relayOutput($pipes[1], $settings);
$status = exitStatus($worker);
markBusy($settings, false);
exit($status);

/** Copies the worker's output to ours line by line, tracking its jobs; checks the protection every few seconds. */
function relayOutput($output, array $settings): void
{
    stream_set_blocking($output, false);
    $pending = '';
    while (true) {
        $read = [$output];
        $none = null;
        // Interrupted by a signal, select returns false: loop and read again.
        if (@stream_select($read, $none, $none, 5) > 0) {
            $chunk = fread($output, 65536);
            if ($chunk === false || ($chunk === '' && feof($output))) {
                break;
            }
            fwrite(STDOUT, $chunk);
            $pending .= $chunk;
            while (($end = strpos($pending, "\n")) !== false) {
                observeLine(substr($pending, 0, $end), $settings);
                $pending = substr($pending, $end + 1);
            }
        }
        syncProtection($settings);
    }
}

/** A job line of queue:work marks this container busy (started) or idle (finished); any other line is ignored. */
function observeLine(string $line, array $settings): void
{
    $line = rtrim(preg_replace('/\e\[[0-9;]*m/', '', $line) ?? $line);
    if (preg_match('/^\[[^\]]+\]\[[^\]]*\] Processing: /', $line) || preg_match('/ RUNNING$/', $line)) {
        markBusy($settings, true);
    } elseif (preg_match('/^\[[^\]]+\]\[[^\]]*\] (Processed|Failed): /', $line) || preg_match('/[0-9][a-z]+ (DONE|FAIL)$/', $line)) {
        markBusy($settings, false);
    }
}

/** Records whether this container runs a job (until when, at the latest), then applies the task's state. */
function markBusy(array $settings, bool $busy): void
{
    withLock(function () use ($settings, $busy): void {
        $file = STATE_DIR . '/busy/' . $settings['container'];
        if ($busy) {
            file_put_contents($file, (string) (time() + $settings['timeout'] + 30));
        } else {
            @unlink($file);
        }
        applyProtection($settings);
    });
}

function syncProtection(array $settings): void
{
    withLock(fn () => applyProtection($settings));
}

/**
 * Protects the task while any container is busy, refreshing before half the protection
 * has run out, and releases it when none is. Called under the lock.
 */
function applyProtection(array $settings): void
{
    $now = time();
    $busy = [];
    foreach (glob(STATE_DIR . '/busy/*') ?: [] as $file) {
        if ((int) @file_get_contents($file) > $now) {
            $busy[] = basename($file);
        } else {
            @unlink($file);
        }
    }
    $state = json_decode((string) @file_get_contents(STATE_DIR . '/protection.json'), true) ?: ['enabled' => false, 'until' => 0];
    $refreshAt = $state['until'] - $settings['minutes'] * 30;
    if ($busy !== [] && (!$state['enabled'] || $now >= $refreshAt)) {
        $why = 'running a job: ' . implode(', ', $busy);
        if (putProtection($settings, true, $why)) {
            $state = ['enabled' => true, 'until' => $now + $settings['minutes'] * 60];
        }
    } elseif ($busy === [] && $state['enabled']) {
        if (putProtection($settings, false, 'every worker idle')) {
            $state = ['enabled' => false, 'until' => 0];
        }
    } else {
        return;
    }
    file_put_contents(STATE_DIR . '/protection.json', json_encode($state));
}

/** PUT $ECS_AGENT_URI/task-protection/v1/state; true when the agent confirms the new state. */
function putProtection(array $settings, bool $enabled, string $why): bool
{
    if ($settings['agent'] === '') {
        return false;
    }
    $body = $enabled ? ['ProtectionEnabled' => true, 'ExpiresInMinutes' => $settings['minutes']] : ['ProtectionEnabled' => false];
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
        $what = $enabled ? "enabled for {$settings['minutes']} minutes" : 'released';
        fwrite(STDERR, LOG_PREFIX . " {$what} ({$why})\n");
        return true;
    }
    $reason = is_string($response) ? $response : (error_get_last()['message'] ?? 'no answer');
    fwrite(STDERR, LOG_PREFIX . ' the ECS agent refused ' . json_encode($body) . ": {$reason}; trying again in 5 s\n");
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

/** The worker's --timeout (queue:work's default 60): no job runs longer. */
function jobTimeout(array $command): int
{
    foreach ($command as $argument) {
        if (preg_match('/^--timeout=(\d+)$/', $argument, $m)) {
            return (int) $m[1];
        }
    }
    return 60;
}

/** The worker's exit status once it has exited; 128 + the signal when a signal ended it, as a shell reports it. */
function exitStatus($worker): int
{
    while (($status = proc_get_status($worker))['running']) {
        usleep(50000);
    }
    proc_close($worker);
    return $status['signaled'] ? 128 + $status['termsig'] : $status['exitcode'];
}
