// Writes the npm-shipped corpora as plain text for the builder: a line per sentence (Brown) or
// paragraph (SOTU, Moby Dick), a file per document, or one file with blank lines between documents.
import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readCorpus, type CorpusName, type TextDocument } from './corpora.js';

/** What writeDocuments wrote: its files, documents and bytes. */
export interface ExportedCorpus {
  files: string[];
  documents: number;
  bytes: number;
}

/** The text of one document: its lines, each ending in '\n' (no blank lines inside). */
export function documentText(doc: TextDocument): string {
  return doc.lines.map((l) => l.trim()).filter((l) => l !== '').map((l) => l + '\n').join('');
}

function safeName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, '_');
}

function writeAtomic(path: string, text: string): void {
  writeFileSync(path + '.partial', text);
  renameSync(path + '.partial', path);
}

/**
 * Writes documents under outputDir: `<prefix>-<id>.txt` each, or with singleFile one `<prefix>.txt`
 * with a blank line between documents. Files appear under their final names only when complete.
 */
export function writeDocuments(prefix: string, docs: readonly TextDocument[], outputDir: string, singleFile = false): ExportedCorpus {
  mkdirSync(outputDir, { recursive: true });
  const texts = docs.map(documentText).filter((t) => t !== '');
  if (singleFile) {
    const text = texts.join('\n');
    const file = join(outputDir, `${safeName(prefix)}.txt`);
    writeAtomic(file, text);
    return { files: [file], documents: texts.length, bytes: Buffer.byteLength(text) };
  }
  const files: string[] = [];
  let bytes = 0;
  docs.forEach((doc) => {
    const text = documentText(doc);
    if (text === '') return;
    const file = join(outputDir, `${safeName(prefix)}-${safeName(doc.id)}.txt`);
    writeAtomic(file, text);
    files.push(file);
    bytes += Buffer.byteLength(text);
  });
  return { files, documents: files.length, bytes };
}

// Abbreviations after which a period does not end a sentence.
const ABBREVIATION = /(?:^|[\s(])(?:Mr|Mrs|Ms|Dr|St|Gen|Col|Capt|Lt|Gov|Sen|Rep|Hon|Jr|Sr|No|Nos|Vol|vs|etc|Messrs|[A-Z])\.$/;

/**
 * Splits running text into sentences at whitespace after '.', '!' or '?' (closing quotes or
 * brackets allowed) when the next word starts with a capital letter, digit or opening quote.
 * A heuristic: it keeps "Mr. Smith" and initials together but is no full sentence segmenter.
 */
export function splitSentences(text: string): string[] {
  const pieces = text.split(/(?<=[.!?]["')\]\u2019\u201d]*)\s+(?=["'(\[\u2018\u201c]*[A-Z0-9])/);
  const out: string[] = [];
  for (const piece of pieces) {
    const prev = out[out.length - 1];
    if (prev !== undefined && ABBREVIATION.test(prev)) out[out.length - 1] = `${prev} ${piece}`;
    else out.push(piece);
  }
  return out.map((s) => s.trim()).filter((s) => s !== '');
}

/**
 * Writes a shipped corpus (brown, sotu, mobydick) as text files; see writeDocuments. State of the
 * Union addresses come as one line each, so they are split into sentences (the builder packs lines
 * into examples, and a 40 kB line would become a single truncated example).
 */
export function exportCorpus(name: CorpusName, outputDir: string, singleFile = false): ExportedCorpus {
  let docs = readCorpus(name);
  if (name === 'sotu') docs = docs.map((d) => ({ id: d.id, lines: d.lines.flatMap(splitSentences) }));
  return writeDocuments(name, docs, outputDir, singleFile);
}
