import type { RedisClient } from '@queue-lanes/backlog-controller/runtime';

/*
 * Laravel's Redis queue in memory, in virtual time: the operations RedisQueue
 * performs (push, later, pop with its migration of due delayed jobs and expired
 * reservations, delete, release; laravel/framework src/Illuminate/Queue/
 * RedisQueue.php and LuaScripts.php), and a client that answers the controller's
 * reads (its pipelined LLEN/ZCARD/ZCOUNT/LINDEX/ZRANGE and the prefix probe's
 * SCAN) from the same keys. No wall clock anywhere: every score is a simulated
 * unix second.
 */

type SortedSet = Map<string, number>;

export class MemoryRedis {
  private readonly lists = new Map<string, string[]>();
  private readonly sets = new Map<string, SortedSet>();

  constructor(
    readonly prefix: string,
    /** config/queue.php retry_after; null: reservations never expire. */
    readonly retryAfter: number | null,
  ) {}

  key(queue: string): string {
    return `${this.prefix}queues:${queue}`;
  }

  /** RedisQueue::pushRaw: RPUSH onto the ready list. */
  push(queue: string, payload: string): void {
    this.list(this.key(queue), true)!.push(payload);
  }

  /** RedisQueue::laterRaw: ZADD onto :delayed at availableAt. */
  later(queue: string, availableAt: number, payload: string): void {
    this.set(`${this.key(queue)}:delayed`, true)!.set(payload, availableAt);
  }

  /**
   * RedisQueue::pop at `now`: migrate due delayed jobs, then (unless retry_after
   * is null) expired reservations, onto the list in score order; LPOP; attempts
   * + 1; ZADD onto :reserved at now + retry_after. Returns the reserved payload.
   */
  pop(queue: string, now: number): string | undefined {
    const key = this.key(queue);
    this.migrate(`${key}:delayed`, key, now);
    if (this.retryAfter !== null) this.migrate(`${key}:reserved`, key, now);
    const list = this.list(key);
    const job = list?.shift();
    if (job === undefined) return undefined;
    if (list!.length === 0) this.lists.delete(key);
    const decoded = JSON.parse(job) as { attempts: number };
    decoded.attempts += 1;
    const reserved = JSON.stringify(decoded);
    this.set(`${key}:reserved`, true)!.set(reserved, now + (this.retryAfter ?? 0));
    return reserved;
  }

  /** RedisQueue::deleteReserved. */
  deleteReserved(queue: string, reserved: string): void {
    this.remove(`${this.key(queue)}:reserved`, reserved);
  }

  /** RedisQueue::deleteAndRelease: back to :delayed at availableAt. */
  release(queue: string, reserved: string, availableAt: number): void {
    this.remove(`${this.key(queue)}:reserved`, reserved);
    this.set(`${this.key(queue)}:delayed`, true)!.set(reserved, availableAt);
  }

  /** Jobs a worker's pop at `now` would find: ready, due delayed and expired reservations. */
  waiting(queue: string, now: number): number {
    const key = this.key(queue);
    const due = (set: SortedSet | undefined) => [...(set?.values() ?? [])].filter((score) => score <= now).length;
    return (
      (this.list(key)?.length ?? 0) + due(this.set(`${key}:delayed`)) + (this.retryAfter !== null ? due(this.set(`${key}:reserved`)) : 0)
    );
  }

  /** Whether a worker's pop at `now` would find a job (ready, due delayed, or an expired reservation). */
  runnable(queue: string, now: number): boolean {
    const key = this.key(queue);
    if ((this.list(key)?.length ?? 0) > 0) return true;
    const due = (set: SortedSet | undefined) => [...(set?.values() ?? [])].some((score) => score <= now);
    return due(this.set(`${key}:delayed`)) || (this.retryAfter !== null && due(this.set(`${key}:reserved`)));
  }

  /** The client the controller's connectRedis returns. */
  client(): RedisClient {
    return new ControllerClient(this) as unknown as RedisClient;
  }

  /** @internal the controller client's reads. */
  read(command: string, key: string, args: readonly (string | number)[]): number | string | null | string[] {
    switch (command) {
      case 'llen':
        return this.list(key)?.length ?? 0;
      case 'lindex':
        return this.list(key)?.[Number(args[0])] ?? null;
      case 'zcard':
        return this.set(key)?.size ?? 0;
      case 'zcount': {
        const [min, max] = args.map(String);
        return [...(this.set(key)?.values() ?? [])].filter((s) => above(s, min) && below(s, max)).length;
      }
      case 'zrange': {
        const entries = [...(this.set(key)?.entries() ?? [])].sort((a, b) => a[1] - b[1]);
        const first = entries[Number(args[0])];
        return first === undefined ? [] : [first[0], String(first[1])];
      }
      default:
        throw new Error(`the simulated Redis has no ${command}`);
    }
  }

  /** @internal every key, for SCAN. */
  keys(): string[] {
    return [...this.lists.keys(), ...this.sets.keys()].sort();
  }

  private migrate(from: string, to: string, now: number): void {
    const set = this.set(from);
    if (set === undefined) return;
    const due = [...set.entries()].filter(([, score]) => score <= now).sort((a, b) => a[1] - b[1]);
    if (due.length === 0) return;
    for (const [member] of due) set.delete(member);
    if (set.size === 0) this.sets.delete(from);
    this.list(to, true)!.push(...due.map(([member]) => member));
  }

  private remove(key: string, member: string): void {
    const set = this.set(key);
    set?.delete(member);
    if (set?.size === 0) this.sets.delete(key);
  }

  private list(key: string, create = false): string[] | undefined {
    if (!this.lists.has(key) && create) this.lists.set(key, []);
    return this.lists.get(key);
  }

  private set(key: string, create = false): SortedSet | undefined {
    if (!this.sets.has(key) && create) this.sets.set(key, new Map());
    return this.sets.get(key);
  }
}

function above(score: number, min: string): boolean {
  if (min === '-inf') return true;
  return min.startsWith('(') ? score > Number(min.slice(1)) : score >= Number(min);
}

function below(score: number, max: string): boolean {
  if (max === '+inf') return true;
  return max.startsWith('(') ? score < Number(max.slice(1)) : score <= Number(max);
}

/** The part of ioredis the controller uses, over a MemoryRedis. */
class ControllerClient {
  readonly status = 'ready';
  constructor(private readonly redis: MemoryRedis) {}

  pipeline() {
    const queued: [string, string, (string | number)[]][] = [];
    const chain = {
      llen: (key: string) => (queued.push(['llen', key, []]), chain),
      lindex: (key: string, index: number) => (queued.push(['lindex', key, [index]]), chain),
      zcard: (key: string) => (queued.push(['zcard', key, []]), chain),
      zcount: (key: string, min: string | number, max: string | number) => (queued.push(['zcount', key, [min, max]]), chain),
      zrange: (key: string, start: string, _stop: string) => (queued.push(['zrange', key, [start]]), chain),
      exec: async () => queued.map(([command, key, args]) => [null, this.redis.read(command, key, args)]),
    };
    return chain;
  }

  async scan(_cursor: string, _match: 'MATCH', pattern: string): Promise<[string, string[]]> {
    const infix = pattern.replace(/^\*|\*$/g, '');
    return ['0', this.redis.keys().filter((k) => k.includes(infix))];
  }

  on(): this {
    return this;
  }

  async quit(): Promise<'OK'> {
    return 'OK';
  }

  disconnect(): void {}
}
