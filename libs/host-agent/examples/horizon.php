<?php
// config/horizon.php, the part the host agent's Horizon mode needs, for production's lanes
// (environments/production.yaml): one supervisor per lane, named as the lane (the agent's
// default: --horizon --lane sync --lane image --lane bulk), taking only that lane's queues,
// so pausing a lane never stops `default`, which keeps a supervisor of its own.
// Merge `defaults` and each environment's block into the application's config/horizon.php.
//
// What a graceful hand-over to ECS needs:
//   timeout        the lane's job.timeout, which Horizon passes to each worker as queue:work's
//                  --timeout; a paused supervisor lets the job in hand finish within it.
//   tries, memory  the lane's job.tries and job.memory, as the ECS workers run them.
// A paused supervisor finishes the jobs in hand and takes no new ones. A Horizon restart (a
// deploy) starts every supervisor running; the agent, run as queue-lanes-host-agent-horizon.service,
// pauses a disabled lane's again within seconds, and Redis hands each job to one worker meanwhile.
// Supervisor names: no `:` (Horizon reads a record's master as its name up to the last `:`).
return [
    'defaults' => [
        'supervisor-default' => [
            'connection' => 'redis',
            'queue' => ['default'],
            'balance' => 'auto',
            'maxProcesses' => 4,
            'tries' => 3,
            'timeout' => 60,
        ],
        'sync' => [
            'connection' => 'redis',
            'queue' => ['sync'],
            'balance' => 'simple',
            'maxProcesses' => 2,
            'tries' => 3,
            'timeout' => 60,
            'maxJobs' => 500,
            'maxTime' => 3600,
            'memory' => 256,
        ],
        'image' => [
            'connection' => 'redis',
            'queue' => ['image'],
            'balance' => 'simple',
            'maxProcesses' => 2,
            'tries' => 3,
            'timeout' => 90,
            'maxJobs' => 500,
            'maxTime' => 3600,
            'memory' => 512,
        ],
        'bulk' => [
            'connection' => 'redis',
            'queue' => ['bulk'],
            'balance' => 'simple',
            'maxProcesses' => 1,
            'tries' => 1,
            'timeout' => 110,
            'maxJobs' => 50,
            'maxTime' => 3600,
            'memory' => 1024,
        ],
    ],

    'environments' => [
        'production' => [
            'supervisor-default' => [],
            'sync' => [],
            'image' => [],
            'bulk' => [],
        ],
    ],
];
