<?php
return [
    'default' => env('QUEUE_CONNECTION', 'redis'),
    'connections' => [
        'redis' => ['driver' => 'redis', 'connection' => 'default', 'queue' => 'default', 'retry_after' => (int) env('QUEUE_RETRY_AFTER', 150), 'block_for' => null],
    ],
    'failed' => ['driver' => 'null'],
];
