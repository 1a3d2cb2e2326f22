<?php
namespace App\Jobs;

use Illuminate\Bus\Batchable;

/** A harness job that can be part of a Bus::batch() (the wake-up listener's batch case). */
class BatchedHarnessJob extends HarnessJob
{
    use Batchable;
}
