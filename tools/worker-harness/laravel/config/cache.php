<?php
// array by default; CACHE_DRIVER=redis shares the cache between processes, as an application's is.
return [
    'default' => env('CACHE_DRIVER', 'array'),
    'stores' => ['array' => ['driver' => 'array'], 'redis' => ['driver' => 'redis', 'connection' => 'default']],
    'prefix' => 'harness',
];
