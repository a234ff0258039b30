// Stage bookkeeping: a stage that finished writes a small record (its key, a one-line summary,
// its data) last, atomically; a rerun whose key matches reuses the stage's output instead of
// redoing it. A key names everything the output depends on, upstream stages' ids included, so a
// changed input reruns exactly the stages downstream of it.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { writeFileAtomic } from '../io/files.js';

export interface StageRecord<T = unknown> {
  stage: string;
  /** Hash of the key: downstream keys include it. */
  id: string;
  key: unknown;
  summary: string;
  seconds: number;
  finishedAt: string;
  data: T;
}

export interface StageOutcome<T> {
  record: StageRecord<T>;
  reused: boolean;
}

export const STAGES_DIR = '.stages';

/**
 * The run was stopped by its AbortSignal (Ctrl-C): the stage in progress saved a checkpoint and
 * wrote no record, so rerunning the same command resumes it; the finished stages are reused.
 */
export class DemoInterrupted extends Error {
  constructor(readonly stage: string, detail: string) {
    super(`interrupted at stage ${stage} (${detail}): rerun the same command to resume`);
    this.name = 'DemoInterrupted';
  }
}

export function stageId(key: unknown): string {
  return createHash('sha256').update(JSON.stringify(key)).digest('hex').slice(0, 16);
}

export class StageBook {
  private readonly dir: string;

  constructor(outputDir: string) {
    this.dir = join(outputDir, STAGES_DIR);
  }

  file(stage: string): string {
    return join(this.dir, `${stage}.json`);
  }

  /** The record of a finished stage with this key, or null. */
  finished<T>(stage: string, key: unknown): StageRecord<T> | null {
    const file = this.file(stage);
    if (!existsSync(file)) return null;
    let record: StageRecord<T>;
    try {
      record = JSON.parse(readFileSync(file, 'utf8')) as StageRecord<T>;
    } catch {
      return null; // unreadable: run the stage again
    }
    return record.id === stageId(key) ? record : null;
  }

  /**
   * Reuses the stage when its record matches `key` and `stillThere` finds its output; otherwise
   * runs `work` and records its result.
   * `work` must leave its output complete before returning (the record is written after it).
   */
  async run<T>(
    stage: string, key: unknown, work: () => Promise<{ summary: string; data: T }>, stillThere: (data: T) => boolean = () => true,
  ): Promise<StageOutcome<T>> {
    const done = this.finished<T>(stage, key);
    // A finished stage whose output was deleted since runs again.
    if (done && stillThere(done.data)) return { record: done, reused: true };
    const started = performance.now();
    const { summary, data } = await work();
    const record: StageRecord<T> = {
      stage, id: stageId(key), key, summary, seconds: (performance.now() - started) / 1000, finishedAt: new Date().toISOString(), data,
    };
    mkdirSync(this.dir, { recursive: true });
    writeFileAtomic(this.file(stage), [JSON.stringify(record, null, 2) + '\n']);
    return { record, reused: false };
  }
}
