import type { LaneConfig } from '@queue-lanes/config';
import { sampleEnvironment } from '@queue-lanes/config/testing';
import { DEFAULT_WORKER_COMMAND, SCHEDULER_COMMAND, healthCheckCommand, renderCommand } from './command';

/** The lane `image` of the sample staging file, with this body, resolved by libs/config. */
function lane(body: string): LaneConfig {
  return sampleEnvironment(`  image:\n${body}`).lanes[0];
}

describe('the queue:work command template', () => {
  it('passes the connection, the queues in priority order and every job setting', () => {
    const l = lane(`    connection: redis-jobs
    queues: [image, thumbnails]
    stopTimeout: 120
    job: { timeout: 90, tries: 5, maxJobs: 500, maxTime: 1800, memory: 256, sleep: 1, backoff: [10, 60, 300] }`);
    expect(renderCommand(DEFAULT_WORKER_COMMAND, l)).toEqual([
      'php',
      '-d',
      'memory_limit=984M',
      'artisan',
      'queue:work',
      'redis-jobs',
      '--queue=image,thumbnails',
      '--tries=5',
      '--timeout=90',
      '--max-jobs=500',
      '--max-time=1800',
      '--memory=256',
      '--sleep=1',
      '--backoff=10,60,300',
    ]);
  });

  it('fills a custom template and keeps doubled braces as literal braces', () => {
    const l = lane('    queues: [image, bulk]');
    expect(
      renderCommand(
        ['php', '-d', 'memory_limit={memory}M', 'artisan', 'queue:work', '{connection}', '--queue={queues}', '--name={lane}', '{{x}}'],
        l,
      ),
    ).toEqual(['php', '-d', 'memory_limit=128M', 'artisan', 'queue:work', 'redis', '--queue=image,bulk', '--name=image', '{x}']);
  });

  it('names the token and the valid placeholders when a placeholder is unknown', () => {
    expect(() => renderCommand(['php', 'artisan', 'queue:work', '--queue={queue}'], lane('    queues: [image]'))).toThrow(
      'lanes.image.command[3]: "--queue={queue}" uses the unknown placeholder {queue}; valid: {connection}, {queues}, {tries}, {timeout}, {maxJobs}, {maxTime}, {memory}, {phpMemoryLimit}, {sleep}, {backoff}, {lane} (write "{{" for a literal brace)',
    );
  });

  it('rejects unbalanced braces', () => {
    const l = lane('    queues: [image]');
    expect(() => renderCommand(['--queue={queues'], l)).toThrow(
      'lanes.image.command[0]: "--queue={queues" has a "{" without its "}"; write "{{" for a literal brace',
    );
    expect(() => renderCommand(['a}'], l)).toThrow(
      'lanes.image.command[0]: "a}" has a "}" without its "{"; write "}}" for a literal brace',
    );
  });

  it('rejects an empty template', () => {
    expect(() => renderCommand([], lane('    queues: [image]'))).toThrow('lanes.image.command: must not be empty');
  });
});

describe('the container health check', () => {
  it('looks for the artisan command, bracketed so it never matches itself', () => {
    expect(healthCheckCommand(DEFAULT_WORKER_COMMAND)).toBe("grep -qs '[q]ueue:work' /proc/[0-9]*/cmdline");
    expect(healthCheckCommand(SCHEDULER_COMMAND)).toBe("grep -qs '[s]chedule:work' /proc/[0-9]*/cmdline");
    expect(healthCheckCommand(['php', '/var/www/html/artisan', 'horizon'])).toBe("grep -qs '[h]orizon' /proc/[0-9]*/cmdline");
  });

  it("looks for a shell script's program, not the shell, which would pass while the shell lives", () => {
    expect(healthCheckCommand(['sh', '-c', 'exec php artisan queue:work redis --queue=image'])).toBe(
      "grep -qs '[q]ueue:work' /proc/[0-9]*/cmdline",
    );
    expect(healthCheckCommand(['/bin/bash', '-c', 'APP_ENV=production exec php -d memory_limit=512M artisan horizon'])).toBe(
      "grep -qs '[h]orizon' /proc/[0-9]*/cmdline",
    );
    expect(healthCheckCommand(['sh', '-c', 'exec /usr/local/bin/worker --fast'])).toBe("grep -qs '[w]orker' /proc/[0-9]*/cmdline");
  });

  it('falls back to the executable name and escapes dots', () => {
    expect(healthCheckCommand(['/usr/local/bin/php8.3', 'worker.php'])).toBe("grep -qs '[p]hp8\\.3' /proc/[0-9]*/cmdline");
  });

  it('refuses a program name it cannot put in a pattern safely', () => {
    expect(() => healthCheckCommand(['php', 'artisan', "it's"])).toThrow(
      'cannot derive a health check from the command\'s program "it\'s"; the program name may hold only letters, digits, ":", "_", "." and "-"',
    );
  });
});
