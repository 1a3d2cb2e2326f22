<?php
// Dispatches harness jobs the way the application does (its Redis queue connection):
//   php dispatch.php '<json list of {queue, name, sleep?, allocate?, keep?, fail?, timeout?, release?}>'
require __DIR__ . '/bootstrap/autoload.php';
$app = require __DIR__ . '/bootstrap/app.php';
$app->make(Illuminate\Contracts\Console\Kernel::class)->bootstrap();
foreach (json_decode($argv[1], true, 4, JSON_THROW_ON_ERROR) as $job) {
    dispatch((new App\Jobs\HarnessJob($job['name'], $job['sleep'] ?? 0, $job['allocate'] ?? 0, $job['keep'] ?? 0, $job['fail'] ?? false, $job['timeout'] ?? null, $job['release'] ?? -1))->onQueue($job['queue']));
}
