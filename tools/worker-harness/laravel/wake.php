<?php
// Dispatches jobs with the wake-up listener registered as an application registers it (for
// JobQueued, resolved from the container), its Lambda Invoke recorded instead of sent:
//   php wake.php '<json list of {queue?, via: onQueue|property|connection-default}>'
// prints the recorded Invoke requests as a JSON list. WAKE_INVOKE_FAILS=1 makes each Invoke throw.
require __DIR__ . '/bootstrap/autoload.php';
$app = require __DIR__ . '/bootstrap/app.php';
$app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();

$invoked = [];
$record = function (array $request) use (&$invoked): void {
    $invoked[] = $request;
    if (getenv('WAKE_INVOKE_FAILS')) {
        throw new RuntimeException('Lambda is unreachable (the harness says so)');
    }
};
$app->bind(App\Listeners\WakeQueueLane::class, fn () => new App\Listeners\WakeQueueLane($record));
Illuminate\Support\Facades\Event::listen(Illuminate\Queue\Events\JobQueued::class, App\Listeners\WakeQueueLane::class);

foreach (json_decode($argv[1], true, 4, JSON_THROW_ON_ERROR) as $i => $spec) {
    $job = new App\Jobs\HarnessJob("wake-{$i}");
    match ($spec['via']) {
        'onQueue' => dispatch($job->onQueue($spec['queue'])),
        'property' => (function () use ($job, $spec) { $job->queue = $spec['queue']; dispatch($job); })(),
        'connection-default' => (function () use ($job, $spec) { config(['queue.connections.redis.queue' => $spec['queue']]); dispatch($job); })(),
    };
}
echo json_encode($invoked), "\n";
