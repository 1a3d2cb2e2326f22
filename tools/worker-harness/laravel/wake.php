<?php
// Dispatches jobs with the wake-up listener subscribed as an application subscribes it, its Lambda
// Invoke recorded through its seam:
//   php wake.php '<json list of steps: {queue?, via: onQueue|property|connection-default|batch} or {pause: seconds}>'
// prints {"invoked": [Invoke requests], "dispatchSeconds": [one per dispatch], "beforeResponse": n}.
// WAKE_INVOKE_FAILS=1 makes each Invoke throw. WAKE_ENDPOINT=http://host:port sends each Invoke there
// with Guzzle (the SDK's HTTP client) and the listener's HTTP_TIMEOUTS, as the SDK would send it.
// APP_RUNNING_IN_CONSOLE=false makes the app an HTTP one (Application::runningInConsole): the
// dispatches are the request, and $app->terminate() is what the HTTP kernel calls after the response.
require __DIR__ . '/bootstrap/autoload.php';
$app = require __DIR__ . '/bootstrap/app.php';
$app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();

// The table `php artisan queue:batches-table` creates on Laravel 8, for Bus::batch().
Illuminate\Support\Facades\Schema::create('job_batches', function (Illuminate\Database\Schema\Blueprint $table) {
    $table->string('id')->primary();
    $table->string('name');
    $table->integer('total_jobs');
    $table->integer('pending_jobs');
    $table->integer('failed_jobs');
    $table->text('failed_job_ids');
    $table->mediumText('options')->nullable();
    $table->integer('cancelled_at')->nullable();
    $table->integer('created_at');
    $table->integer('finished_at')->nullable();
});

$invoked = [];
$record = function (array $request) use (&$invoked): void {
    $invoked[] = $request;
    if (getenv('WAKE_INVOKE_FAILS')) {
        throw new RuntimeException('Lambda is unreachable (the harness says so)');
    }
    if ($endpoint = getenv('WAKE_ENDPOINT')) {
        require_once '/usr/share/php/GuzzleHttp/autoload.php';
        $path = '/2015-03-31/functions/' . rawurlencode($request['FunctionName']) . '/invocations';
        (new GuzzleHttp\Client())->post($endpoint . $path, App\Listeners\WakeQueueLane::HTTP_TIMEOUTS + [
            'headers' => ['X-Amz-Invocation-Type' => $request['InvocationType']],
            'body' => $request['Payload'],
        ]);
    }
};
$app->bind(App\Listeners\WakeQueueLane::class, fn () => new App\Listeners\WakeQueueLane($record));
Illuminate\Support\Facades\Event::subscribe(App\Listeners\WakeQueueLane::class);

$dispatchSeconds = [];
foreach (json_decode($argv[1], true, 4, JSON_THROW_ON_ERROR) as $i => $step) {
    if (isset($step['pause'])) {
        usleep((int) ($step['pause'] * 1_000_000));
        continue;
    }
    $job = new App\Jobs\BatchedHarnessJob("wake-{$i}");
    $started = hrtime(true);
    match ($step['via']) {
        'onQueue' => dispatch($job->onQueue($step['queue'])),
        'property' => (function () use ($job, $step) { $job->queue = $step['queue']; dispatch($job); })(),
        'connection-default' => (function () use ($job, $step) { config(['queue.connections.redis.queue' => $step['queue']]); dispatch($job); })(),
        'batch' => (function () use ($job, $step, $i) {
            $batch = Illuminate\Support\Facades\Bus::batch([$job, new App\Jobs\BatchedHarnessJob("wake-{$i}-2")]);
            isset($step['queue']) ? $batch->onQueue($step['queue'])->dispatch() : $batch->dispatch();
        })(),
    };
    $dispatchSeconds[] = (hrtime(true) - $started) / 1e9;
}
$beforeResponse = count($invoked);
$app->terminate();
echo json_encode(['invoked' => $invoked, 'dispatchSeconds' => $dispatchSeconds, 'beforeResponse' => $beforeResponse]), "\n";
