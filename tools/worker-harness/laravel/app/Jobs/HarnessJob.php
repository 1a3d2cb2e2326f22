<?php
namespace App\Jobs;

use Illuminate\Bus\Queueable;
use Illuminate\Contracts\Queue\ShouldQueue;
use Illuminate\Queue\InteractsWithQueue;

/** What a lane's real jobs do, in the small: sleep, allocate (and leak), fail, release themselves, print. */
class HarnessJob implements ShouldQueue
{
    use InteractsWithQueue, Queueable;

    /** The job's own limit (seconds), above or below the worker's --timeout; null: the worker's. */
    public ?int $timeout = null;

    /** What jobs leak: kept for the worker's life, as a real app's caches and static registries do. */
    private static array $kept = [];

    public function __construct(
        public string $name,
        public int $sleepSeconds = 0,
        public int $allocateMb = 0,
        public int $keepMb = 0,
        public bool $fail = false,
        ?int $timeout = null,
        public int $releaseAfter = -1,
    ) {
        $this->timeout = $timeout;
    }

    public function handle(): void
    {
        echo "harness-job {$this->name} started\n";
        $held = $this->allocateMb > 0 ? str_repeat('x', $this->allocateMb * 1024 * 1024) : '';
        if ($this->keepMb > 0) {
            self::$kept[] = str_repeat('k', $this->keepMb * 1024 * 1024);
        }
        // Work for the whole time: a signal cuts sleep() short, and a real job's work is not cut short.
        $until = microtime(true) + $this->sleepSeconds;
        while (($left = $until - microtime(true)) > 0) {
            usleep((int) min(1_000_000, $left * 1_000_000));
        }
        // Released on its first attempt only, so its second attempt finishes.
        if ($this->releaseAfter >= 0 && $this->attempts() === 1) {
            echo "harness-job {$this->name} released\n";
            $this->release($this->releaseAfter);
            return;
        }
        if ($this->fail) {
            throw new \RuntimeException("harness-job {$this->name} failed on purpose");
        }
        echo "harness-job {$this->name} finished (" . (strlen($held) >> 20) . " MB held, " . (memory_get_usage(true) >> 20) . " MB in use)\n";
    }
}
