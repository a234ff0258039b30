// The registry of task families. A family is a folder (its tasks, reader, featurizer, head,
// scorer and post-processing) and one line in FAMILIES; the task registry, the model and model
// folders reach a family only through this list.
import type { HeadFamily, HeadOutputBase, ModelHead } from './model/head.js';
import type { TaskFamily } from './task.js';
import { classificationFamily } from './classification/family.js';
import { taggingFamily } from './tagging/family.js';
import { qaFamily } from './qa/family.js';
import { multipleChoiceFamily } from './multiple-choice/family.js';

export const FAMILIES = [classificationFamily, taggingFamily, qaFamily, multipleChoiceFamily] as const;

type Family = (typeof FAMILIES)[number];
type OptionsOf<F> = F extends HeadFamily<string, unknown, HeadOutputBase, infer O> ? O : never;
type AllOptions<T extends readonly unknown[]> = T extends readonly [infer F, ...infer R] ? OptionsOf<F> & AllOptions<R> : unknown;

/** Every head kind of every family. */
export type HeadKind = Family['kinds'][number];
/** The output of any family's head for one example. */
export type ItemOutput = Family extends HeadFamily<string, unknown, infer O, infer _> ? O : never;
/** The targets of any family's example. */
export type BatchTarget = Family extends HeadFamily<string, infer T, HeadOutputBase, infer _> ? T : never;
/** The settings of every family, as the model takes them. */
export type HeadOptions = AllOptions<typeof FAMILIES>;

export type AnyFamily = TaskFamily<HeadKind, BatchTarget, ItemOutput, HeadOptions>;
export type AnyModelHead = ModelHead<BatchTarget, ItemOutput>;

const BY_KIND = new Map<string, AnyFamily>(FAMILIES.flatMap((f: AnyFamily) => f.kinds.map((kind) => [kind, f] as const)));

/** The family of a head kind. */
export function familyOf(kind: string): AnyFamily {
  const family = BY_KIND.get(kind);
  if (!family) throw new Error(`no task family makes '${kind}' heads (known: ${[...BY_KIND.keys()].join(', ')})`);
  return family;
}

export const HEAD_KINDS: readonly HeadKind[] = FAMILIES.flatMap((f: AnyFamily) => f.kinds);
