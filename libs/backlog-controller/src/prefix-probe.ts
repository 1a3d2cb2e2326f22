import { Cluster } from 'ioredis';
import { parseQueueKey, type ControllerLaneConfig, type RedisConfig } from '@queue-lanes/contract';
import type { LaneReading, RedisClient } from './redis';
import { withTimeout } from './redis';

/*
 * Catching a wrong key prefix at run time. An idle lane and a lane read under the
 * wrong prefix look the same: every key absent. So while a lane reads absent, the
 * probe looks for its queues' keys under any prefix (SCAN MATCH *queues:*), a
 * bounded number of keys per tick, resuming the cursor on the next tick until the
 * keyspace has been walked once; then the lane rests for the probe interval.
 * A lane that reads non-empty is evidently read right: it is never probed, and
 * what was found for it is forgotten.
 */

/** What the probe knows of one lane. */
export interface PrefixFinding {
  /** Prefixes other than the configured one under which the lane's queue keys exist, sorted. */
  readonly otherPrefixes: readonly string[];
}

type ProbeLane = Pick<ControllerLaneConfig, 'name' | 'queues'>;
type ProbeSettings = Pick<
  RedisConfig,
  'keyPrefix' | 'commandTimeoutMs' | 'prefixProbe' | 'prefixProbeIntervalSeconds' | 'prefixProbeScanCount' | 'prefixProbeMaxCalls'
>;

/** The pattern every RedisQueue key matches whatever its prefix. */
const PATTERN = '*queues:*';

export class PrefixProbe {
  /** SCAN cursors of the walk under way, by node ('' for a standalone server). */
  private cursors = new Map<string, string>();
  /** Lanes the walk under way is looking for, and what it found so far. */
  private walk?: { lanes: Set<string>; found: Map<string, Set<string>> };
  private readonly lastWalked = new Map<string, number>();
  private readonly findings = new Map<string, PrefixFinding>();
  private absent = new Set<string>();

  constructor(
    private readonly settings: ProbeSettings,
    private readonly lanes: readonly ProbeLane[],
  ) {}

  /** What is known for `lane`: other prefixes found while it reads absent, or undefined. */
  finding(lane: string): PrefixFinding | undefined {
    return this.findings.get(lane);
  }

  /**
   * Takes this tick's readings: forgets what was found for lanes that read
   * non-empty (they are evidently read right) and starts a walk when an absent
   * lane is due. Returns the lanes whose finding was forgotten, and whether
   * {@link walkStep} has work this tick.
   */
  observe(readings: readonly LaneReading[], nowSeconds: number): { forgotten: string[]; walk: boolean } {
    const forgotten: string[] = [];
    this.absent = new Set(readings.filter((r) => r.absent).map((r) => r.lane));
    for (const reading of readings) {
      if (reading.absent) continue;
      if (this.findings.delete(reading.lane)) forgotten.push(reading.lane);
      this.lastWalked.delete(reading.lane);
    }
    if (this.walk === undefined && this.settings.prefixProbe) {
      const due = [...this.absent].filter(
        (lane) => nowSeconds - (this.lastWalked.get(lane) ?? -Infinity) >= this.settings.prefixProbeIntervalSeconds,
      );
      if (due.length > 0) {
        this.walk = { lanes: new Set(due), found: new Map() };
        this.cursors = new Map();
      }
    }
    // A lane that filled up meanwhile is no longer a suspect.
    for (const lane of this.walk?.lanes ?? []) if (!this.absent.has(lane)) this.walk!.lanes.delete(lane);
    return { forgotten, walk: this.walk !== undefined && this.walk.lanes.size > 0 };
  }

  /**
   * Walks the next part of the keyspace for the lanes under suspicion. Returns
   * the lanes whose finding changed. Throws if a SCAN fails; the walk resumes
   * from the same cursors next time.
   */
  async walkStep(client: RedisClient, nowSeconds: number): Promise<string[]> {
    const walk = this.walk;
    if (walk === undefined) return [];
    const done = await this.scan(client, (key) => {
      for (const lane of this.lanes) {
        if (!walk.lanes.has(lane.name)) continue;
        const parsed = parseQueueKey(key, lane.queues);
        if (parsed !== undefined) walk.found.set(lane.name, (walk.found.get(lane.name) ?? new Set()).add(parsed.prefix));
      }
    });
    const changed: string[] = [];
    // Another prefix counts as soon as it is seen; a clean bill needs the whole walk.
    for (const lane of walk.lanes) {
      const prefixes = [...(walk.found.get(lane) ?? [])];
      const others = prefixes.filter((p) => p !== this.settings.keyPrefix).sort();
      const ownSeen = prefixes.includes(this.settings.keyPrefix);
      const before = this.findings.get(lane)?.otherPrefixes.join('\n');
      if (others.length > 0 && !ownSeen) this.findings.set(lane, { otherPrefixes: others });
      else if (done || ownSeen) this.findings.delete(lane);
      if (this.findings.get(lane)?.otherPrefixes.join('\n') !== before) changed.push(lane);
    }
    if (done) {
      for (const lane of walk.lanes) this.lastWalked.set(lane, nowSeconds);
      this.walk = undefined;
    }
    return changed;
  }

  /** Up to prefixProbeMaxCalls SCAN calls per node; true once every node's cursor is back at 0. */
  private async scan(client: RedisClient, visit: (key: string) => void): Promise<boolean> {
    const nodes = client instanceof Cluster ? client.nodes('master') : [client];
    const results = await Promise.all(
      nodes.map(async (node) => {
        const id = client instanceof Cluster ? `${node.options.host}:${node.options.port}` : '';
        let cursor = this.cursors.get(id) ?? '0';
        if (this.cursors.get(id) === 'done') return true;
        for (let call = 0; call < this.settings.prefixProbeMaxCalls; call += 1) {
          const [next, keys] = await withTimeout(
            node.scan(cursor, 'MATCH', PATTERN, 'COUNT', this.settings.prefixProbeScanCount),
            this.settings.commandTimeoutMs,
            'the key-prefix SCAN',
          );
          keys.forEach(visit);
          cursor = next;
          if (cursor === '0') {
            this.cursors.set(id, 'done');
            return true;
          }
        }
        this.cursors.set(id, cursor);
        return false;
      }),
    );
    return results.every(Boolean);
  }
}
