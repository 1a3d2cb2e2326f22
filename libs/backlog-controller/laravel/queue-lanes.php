<?php
// config/queue-lanes.php: what the wake-up listener (app/Listeners/WakeQueueLane.php) needs.
return [
    // The backlog controller: <app>-<env>-backlog-controller.
    'controller' => env('QUEUE_LANES_CONTROLLER'),
    'region' => env('QUEUE_LANES_REGION', env('AWS_DEFAULT_REGION')),
    // Laravel queue => the lane that consumes it, as environments/<env>.yaml's lanes list their queues.
    'lanes' => [
        'image' => 'image',
        'bulk' => 'bulk',
        'sync' => 'sync',
        'sync-urgent' => 'sync',
    ],
];
